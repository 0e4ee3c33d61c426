/* A tiny assertion kit for the C tests of the iocmatch ABI: a failed check prints where, what,
 * and the library's last error, then exits with status 1. */
#ifndef IOCMATCH_TEST_CHECK_H
#define IOCMATCH_TEST_CHECK_H

#include "iocmatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Atomic: the thread tests check from several threads. */
static _Atomic int checks_run = 0;

#define FAIL_AT(what)                                                                              \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: check failed: %s\n  last error (%s): %s\n", __FILE__, __LINE__,    \
                what, iocmatch_result_name((int)iocmatch_last_error_code()),                       \
                iocmatch_last_error_message());                                                    \
        exit(1);                                                                                   \
    } while (0)

/* CHECK(cond): cond must hold. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        checks_run++;                                                                              \
        if (!(cond)) FAIL_AT(#cond);                                                               \
    } while (0)

/* CHECK_RESULT(call, code): call must return code. */
#define CHECK_RESULT(call, code)                                                                   \
    do {                                                                                           \
        checks_run++;                                                                              \
        iocmatch_result got_ = (call);                                                             \
        if (got_ != (code)) {                                                                      \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, #call,      \
                    iocmatch_result_name((int)got_), iocmatch_result_name((int)(code)));           \
            FAIL_AT(#call);                                                                        \
        }                                                                                          \
    } while (0)

/* CHECK_OK(call): call must succeed. */
#define CHECK_OK(call) CHECK_RESULT(call, IOCMATCH_RESULT_OK)

/* CHECK_STR(a, b): two C strings must be equal (neither NULL). */
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        checks_run++;                                                                              \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                                     \
            fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_ ? a_ : "(null)",   \
                    b_ ? b_ : "(null)");                                                           \
            FAIL_AT(#a " == " #b);                                                                 \
        }                                                                                          \
    } while (0)

/* CHECK_CONTAINS(haystack, needle): a C string must contain another. */
#define CHECK_CONTAINS(h, n)                                                                       \
    do {                                                                                           \
        checks_run++;                                                                              \
        const char *h_ = (h), *n_ = (n);                                                           \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                                                \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,         \
                    h_ ? h_ : "(null)", n_);                                                       \
            FAIL_AT(#h " contains " #n);                                                           \
        }                                                                                          \
    } while (0)

/* S("literal"): a string literal as the (pointer, length) pair the ABI takes. */
#define S(lit) (lit), (sizeof(lit) - 1)

/* B("literal"): a string literal as a (byte pointer, length) pair. */
#define B(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* A C string as a (pointer, length) pair. */
#define SZ(s) (s), strlen(s)

/* Print the closing line of a test program. */
#define DONE(name)                                                                                 \
    do {                                                                                           \
        printf("%s: %d checks passed\n", (name), (int)checks_run);                                      \
        return 0;                                                                                  \
    } while (0)

/* Copy the JSON value of "id" in a JSON document (the first one) into buf. */
static inline void json_id(const char *json, char *buf, size_t cap) {
    const char *p = json ? strstr(json, "\"id\":\"") : NULL;
    if (p == NULL) FAIL_AT("json has an \"id\"");
    p += 6;
    size_t n = 0;
    while (p[n] != '"' && p[n] != '\0' && n + 1 < cap) n++;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

#endif
