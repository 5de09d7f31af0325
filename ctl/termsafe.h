/* termsafe.h: text from the database or upstream made safe to print on a
 * terminal: controls and bidi overrides shown, never obeyed. Pure logic. */
#ifndef IMGEDIT_TERMSAFE_H
#define IMGEDIT_TERMSAFE_H

#include <stddef.h>

#include <jansson.h>

/* Whether s (NUL-terminated) prints as itself: valid UTF-8 without C0 or
 * C1 controls, DEL, bidi controls or line/paragraph separators. */
int termsafe_is_safe(const char *s);

/* s with every such character shown visibly: \n \r \t, \xNN for other C0
 * bytes, DEL and bytes that are not UTF-8, \uNNNN for C1 controls, bidi
 * controls (U+061C, U+200E/F, U+202A..E, U+2066..9) and U+2028/9. Caller
 * frees; NULL when out of memory. */
char *termsafe_dup(const char *s);

/* The same into out (n bytes, n > 0), cut at a whole character or escape;
 * returns out. */
char *termsafe_copy(const char *s, char *out, size_t n);

/* Replaces, in place, every string in v (values and object keys, at any
 * depth) with its safe form: for documents printed for people, never for
 * --json. Returns 0, or -1 out of memory (v then partly replaced). */
int termsafe_json(json_t *v);

#endif
