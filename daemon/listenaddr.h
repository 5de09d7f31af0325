/* listenaddr.h: "HOST:PORT" for the addresses imgedit listens on (the
 * daemon's --metrics-listen, imgeditctl serve --listen). Pure, no I/O. */
#ifndef IMGEDIT_LISTENADDR_H
#define IMGEDIT_LISTENADDR_H

#include <stddef.h>

/* Parses "HOST:PORT": HOST an IPv4 address, an IPv6 one in brackets, or
 * localhost; PORT 0..65535 (0: any free port). Writes the host without
 * brackets into host (hostlen bytes). Returns 0, or -1 with the reason
 * (naming s) in err. */
int listen_addr_parse(const char *s, char *host, size_t hostlen, int *port,
    char *err, size_t errlen);

/* Whether a parsed host names only this machine: localhost, 127.0.0.0/8,
 * ::1 or an IPv4-mapped 127 address. */
int listen_addr_loopback(const char *host);

/* Whether an HTTP Host header ("name", "name:port", "[v6]:port") names
 * this machine the way listen_addr_loopback says. Guards a loopback
 * server against DNS rebinding: a page elsewhere whose name now points at
 * 127.0.0.1 sends its own name. */
int listen_addr_host_header_loopback(const char *host);

/* Whether a Host header's name (its port aside) is one of allow's,
 * comma-separated, compared without case ("example.test,127.0.0.1,::1"). */
int listen_addr_host_allowed(const char *host, const char *allow);

/* Whether allow is a list listen_addr_host_allowed can use: names of
 * letters, digits, '-', '.', ':' (IPv6), comma-separated, none empty. */
int listen_addr_allow_valid(const char *allow);

#endif
