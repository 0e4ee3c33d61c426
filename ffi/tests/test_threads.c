/* Thread safety of the C ABI: one matcher used by many threads at once while another thread
 * swaps in fresh indexes; a live matcher matched while the store is written and refreshed; one
 * store handle written from several threads; last errors kept per thread. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <pthread.h>
#include <stdint.h>

#define THREADS 4

static int iterations = 200;

/* Holds 203.0.113.1 (in every index) and 192.0.2.99 (only in index B, and in the live store
 * part of the time). */
static const char EVENT[] = "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"destination\":{\"ip\":\"203.0.113.1\"},"
                            "\"source\":{\"ip\":\"192.0.2.99\"}}";

struct shared {
    iocmatch_matcher *matcher;
    iocmatch_index *a, *b;
    iocmatch_store *store;
    int id;
    int saw_one, saw_two;
};

static int count_cb(void *userdata, const iocmatch_match *m) {
    int *n = userdata;
    if (m->value.data == NULL) return 1;
    (*n)++;
    return 0;
}

/* One match of EVENT by list, callback and batch: 1 or 2 matches, the first always 203.0.113.1. */
static int match_once(const iocmatch_matcher *m, int round) {
    int n = 0;
    if (round % 3 == 0) {
        iocmatch_matches *list = NULL;
        CHECK_OK(iocmatch_matcher_match_event(m, B(EVENT), NULL, &list));
        n = (int)iocmatch_matches_count(list);
        CHECK(n >= 1);
        CHECK_STR(iocmatch_matches_value(list, 0), "203.0.113.1");
        iocmatch_matches_free(list);
    } else if (round % 3 == 1) {
        CHECK_OK(iocmatch_matcher_match_event_cb(m, B(EVENT), NULL, count_cb, &n));
    } else {
        iocmatch_bytes batch[2] = {{B(EVENT)}, {B(EVENT)}};
        iocmatch_matches *list = NULL;
        CHECK_OK(iocmatch_matcher_match_batch(m, batch, 2, NULL, &list));
        n = (int)iocmatch_matches_count(list) / 2;
        CHECK(iocmatch_matches_count(list) % 2 == 0);
        CHECK(iocmatch_matches_event(list, iocmatch_matches_count(list) - 1) == 1);
        iocmatch_matches_free(list);
    }
    CHECK(n == 1 || n == 2);
    return n;
}

static void *matching_worker(void *arg) {
    struct shared *s = arg;
    for (int i = 0; i < iterations; i++) {
        int n = match_once(s->matcher, i + s->id);
        if (n == 1) s->saw_one++;
        if (n == 2) s->saw_two++;
    }
    return NULL;
}

static void *swapper(void *arg) {
    struct shared *s = arg;
    for (int i = 0; i < iterations; i++) CHECK_OK(iocmatch_matcher_swap(s->matcher, (i % 2) ? s->a : s->b));
    return NULL;
}

static void matcher_shared_while_swapping(iocmatch_store *store) {
    iocmatch_index *a = NULL, *b = NULL;
    CHECK_OK(iocmatch_index_compile(store, &a));
    CHECK_OK(iocmatch_indicator_add_batch(
        store, S("feed"), S("{\"indicators\": [{\"value\": \"192.0.2.99\", \"valid_from\": \"2024-01-01\"}]}"), NULL));
    CHECK_OK(iocmatch_index_compile(store, &b));
    iocmatch_matcher *m = NULL;
    CHECK_OK(iocmatch_matcher_new(a, NULL, &m));

    pthread_t threads[THREADS + 1];
    struct shared args[THREADS + 1];
    for (int t = 0; t <= THREADS; t++) {
        args[t] = (struct shared){m, a, b, store, t, 0, 0};
        CHECK(pthread_create(&threads[t], NULL, t < THREADS ? matching_worker : swapper, &args[t]) == 0);
    }
    int matched = 0;
    for (int t = 0; t <= THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        matched += args[t].saw_one + args[t].saw_two;
    }
    CHECK(matched == THREADS * iterations);

    /* once the swaps are done, a match sees the index swapped in last */
    CHECK_OK(iocmatch_matcher_swap(m, a));
    CHECK(match_once(m, 0) == 1);
    CHECK_OK(iocmatch_matcher_swap(m, b));
    CHECK(match_once(m, 1) == 2);
    iocmatch_index_free(a);
    iocmatch_index_free(b);
    iocmatch_matcher_free(m);
}

static void *writer(void *arg) {
    struct shared *s = arg;
    char *json = NULL;
    for (int i = 0; i < iterations / 10 + 1; i++) {
        CHECK_OK(iocmatch_indicator_list(s->store, S("feed"), S("{\"search\": \"192.0.2.99\", \"revoked\": false}"),
                                         &json));
        int active = strstr(json, "\"total\":1") != NULL;
        if (active) {
            char id[80];
            json_id(strstr(json, "\"items\""), id, sizeof id);
            CHECK_OK(iocmatch_indicator_revoke(s->store, SZ(id), NULL));
        } else {
            CHECK_OK(iocmatch_indicator_add_batch(
                s->store, S("feed"),
                S("{\"indicators\": [{\"value\": \"192.0.2.99\", \"valid_from\": \"2024-01-01\"}]}"), NULL));
        }
        iocmatch_string_free(json);
        json = NULL;
        CHECK_OK(iocmatch_matcher_refresh(s->matcher));
    }
    return NULL;
}

static void live_matcher_while_writing(iocmatch_store *store) {
    iocmatch_matcher *live = NULL;
    CHECK_OK(iocmatch_matcher_new_live(store, NULL, &live));
    pthread_t threads[THREADS + 1];
    struct shared args[THREADS + 1];
    for (int t = 0; t <= THREADS; t++) {
        args[t] = (struct shared){live, NULL, NULL, store, t, 0, 0};
        CHECK(pthread_create(&threads[t], NULL, t < THREADS ? matching_worker : writer, &args[t]) == 0);
    }
    for (int t = 0; t <= THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);

    /* the final state is seen: 192.0.2.99 active exactly when the store says so */
    char *json = NULL;
    CHECK_OK(iocmatch_indicator_list(store, S("feed"), S("{\"search\": \"192.0.2.99\", \"revoked\": false}"), &json));
    int active = strstr(json, "\"total\":1") != NULL;
    iocmatch_string_free(json);
    CHECK(match_once(live, 0) == (active ? 2 : 1));
    iocmatch_matcher_free(live);
}

static void *store_worker(void *arg) {
    struct shared *s = arg;
    char name[64], params[128], text[4096], wrong[64];
    snprintf(name, sizeof name, "thread-%d", s->id);
    snprintf(params, sizeof params, "{\"name\": \"%s\"}", name);
    CHECK_OK(iocmatch_collection_create(s->store, SZ(params), NULL));
    size_t len = 0;
    for (int i = 0; i < 50; i++) len += (size_t)snprintf(text + len, sizeof text - len, "10.%d.0.%d\n", s->id, i);
    iocmatch_import_report *r = NULL;
    CHECK_OK(iocmatch_import_text(s->store, SZ(name), (const uint8_t *)text, len, NULL, 0, NULL, NULL, &r));
    CHECK(iocmatch_import_report_imported(r) == 50);
    iocmatch_import_report_free(r);

    /* each thread has its own last error */
    snprintf(wrong, sizeof wrong, "missing-%d", s->id);
    char *json = NULL;
    for (int i = 0; i < 20; i++) {
        CHECK_RESULT(iocmatch_collection_get(s->store, SZ(wrong), &json), IOCMATCH_RESULT_NOT_FOUND);
        CHECK_STR(iocmatch_last_error_value(), wrong);
        CHECK_OK(iocmatch_collection_list(s->store, NULL, 0, 0, 0, &json));
        iocmatch_string_free(json);
        json = NULL;
    }
    return NULL;
}

static void store_shared_by_writers(iocmatch_store *store) {
    pthread_t threads[THREADS];
    struct shared args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (struct shared){NULL, NULL, NULL, store, t, 0, 0};
        CHECK(pthread_create(&threads[t], NULL, store_worker, &args[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
    for (int t = 0; t < THREADS; t++) {
        char name[64], *json = NULL;
        snprintf(name, sizeof name, "thread-%d", t);
        CHECK_OK(iocmatch_collection_get(store, SZ(name), &json));
        CHECK_CONTAINS(json, "\"indicator_count\":50");
        iocmatch_string_free(json);
    }
}

int main(void) {
    const char *env = getenv("IOCMATCH_TEST_ITERATIONS");
    if (env != NULL && atoi(env) > 0) iterations = atoi(env);

    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed\"}"), NULL));
    CHECK_OK(iocmatch_indicator_add_batch(
        store, S("feed"), S("{\"indicators\": [{\"value\": \"203.0.113.1\", \"valid_from\": \"2024-01-01\"}]}"), NULL));

    matcher_shared_while_swapping(store);
    live_matcher_while_writing(store);
    store_shared_by_writers(store);
    iocmatch_store_free(store);
    DONE("test_threads");
}
