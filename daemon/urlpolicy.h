/* urlpolicy.h: what a url result may point at: a scheme the base URL
 * allows, and no internal address but the base URL's own. Pure logic. */
#ifndef IMGEDIT_URLPOLICY_H
#define IMGEDIT_URLPOLICY_H

#include <stddef.h>
#include <sys/socket.h>

/* Whether url may be fetched as a result of base_url: https always; http
 * only when base_url is http itself (a test setup). Returns 0, or -1 with
 * the reason in err. */
int urlpolicy_scheme(const char *base_url, const char *url, char *err,
    size_t errlen);

/* The protocols curl may use for such results: "https" or "http,https". */
const char *urlpolicy_protocols(const char *base_url);

/* Whether sa is an address no image host has: loopback, private (10/8,
 * 172.16/12, 192.168/16, fc00::/7), shared (100.64/10), link-local,
 * site-local (fec0::/10), multicast, unspecified or reserved, IPv4-
 * compatible (::/96), local-use NAT64 (64:ff9b:1::/48); the IPv4 inside
 * IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 (2002::/16) as IPv4. */
int urlpolicy_internal(const struct sockaddr *sa);

/* sa as numeric text (as curl's CURLINFO_PRIMARY_IP writes it) into buf.
 * Returns 0, or -1 for a family other than IPv4 and IPv6. */
int urlpolicy_addr_text(const struct sockaddr *sa, char *buf, size_t n);

/* sa's port, or -1 for a family other than IPv4 and IPv6. */
long urlpolicy_addr_port(const struct sockaddr *sa);

#endif
