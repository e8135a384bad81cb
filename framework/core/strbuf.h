/* A growing string for generated TorchScript source (framework-internal). */
#ifndef E3CHECK_STRBUF_H
#define E3CHECK_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char *s;
    size_t len, cap;
    int oom; /* set once an allocation failed; later appends do nothing */
} strbuf;

/* Append printf-style text. */
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text (NUL-terminated, owned by b), or NULL after an allocation failure. */
const char *sb_text(const strbuf *b);

/* Free the text. */
void sb_free(strbuf *b);

#endif
