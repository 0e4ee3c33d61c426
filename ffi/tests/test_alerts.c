/* Live detection alerts through the C ABI: a detector following a store turns the matches of an
 * event into one alert per enabled rule (typed cti), as a JSON array; disabled rules alert
 * nothing; rule changes are seen on the next detection (same store handle) or after a refresh
 * (another handle); NULLs and bad events fail with messages. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

static const char EVENT_A[] = "{\"@timestamp\": \"2024-06-01T00:00:00Z\", \"url\": {\"domain\": \"evil-a.example\"}}";
static const char EVENT_B[] = "{\"@timestamp\": \"2024-06-01T00:00:00Z\", \"url\": {\"domain\": \"evil-b.example\"}}";
static const char EVENT_BOTH[] = "{\"@timestamp\": \"2024-06-01T00:00:00Z\", \"url\": {\"domain\": \"evil-a.example\"},"
                                 " \"destination\": {\"domain\": \"evil-b.example\"}}";
static const char EVENT_NONE[] = "{\"@timestamp\": \"2024-06-01T00:00:00Z\", \"url\": {\"domain\": \"good.example\"}}";

/* The number of alerts in a JSON array of alerts. */
static int count_alerts(const char *json) {
    int n = 0;
    for (const char *p = json; (p = strstr(p, "\"rule_id\":")) != NULL; p++) n++;
    return n;
}

/* Detect on one event (matched at its @timestamp); the alerts JSON, to free. */
static char *detect(iocmatch_detector *d, const char *event) {
    char *json = NULL;
    CHECK_OK(iocmatch_detector_detect(d, (const uint8_t *)event, strlen(event), NULL, &json));
    CHECK(json != NULL && json[0] == '[');
    return json;
}

static void fill(iocmatch_store *store) {
    iocmatch_import_report *r = NULL;
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed-a\"}"), NULL));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed-b\"}"), NULL));
    CHECK_OK(iocmatch_import_text(store, S("feed-a"), B("evil-a.example\n"), S("{\"valid_from\": \"2024-01-01\"}"),
                                  NULL, NULL, &r));
    CHECK(iocmatch_import_report_imported(r) == 1);
    iocmatch_import_report_free(r);
    r = NULL;
    CHECK_OK(iocmatch_import_text(store, S("feed-b"), B("evil-b.example\n"), S("{\"valid_from\": \"2024-01-01\"}"),
                                  NULL, NULL, &r));
    CHECK(iocmatch_import_report_imported(r) == 1);
    iocmatch_import_report_free(r);
    CHECK_OK(iocmatch_rule_create(store, S("{\"name\": \"rule A\", \"collections\": [\"feed-a\"]}"), NULL));
    CHECK_OK(iocmatch_rule_create(store, S("{\"name\": \"rule B\", \"collections\": [\"feed-b\"], \"enabled\": false}"),
                                  NULL));
}

static void alerts(iocmatch_store *store) {
    iocmatch_detector *d = NULL;
    CHECK_OK(iocmatch_detector_new(store, NULL, &d));
    CHECK(d != NULL);

    /* rule A alerts on its collection */
    char *json = detect(d, EVENT_A);
    CHECK(count_alerts(json) == 1);
    CHECK_CONTAINS(json, "\"rule_id\":\"rule--");
    CHECK_CONTAINS(json, "\"rule_name\":\"rule A\"");
    CHECK_CONTAINS(json, "\"detection_type\":\"cti\"");
    CHECK_CONTAINS(json, "\"line\":null");
    CHECK_CONTAINS(json, "\"time_source\":\"event\"");
    CHECK_CONTAINS(json, "\"field\":\"url.domain\"");
    CHECK_CONTAINS(json, "\"value\":\"evil-a.example\"");
    CHECK(strstr(json, "rule B") == NULL);
    iocmatch_string_free(json);

    /* rule B is disabled: nothing */
    json = detect(d, EVENT_B);
    CHECK_STR(json, "[]");
    iocmatch_string_free(json);
    json = detect(d, EVENT_NONE);
    CHECK_STR(json, "[]");
    iocmatch_string_free(json);

    /* enabled through the detector's store handle: seen on the next detection */
    CHECK_OK(iocmatch_rule_enable(store, S("rule B"), NULL));
    json = detect(d, EVENT_B);
    CHECK(count_alerts(json) == 1);
    CHECK_CONTAINS(json, "\"rule_name\":\"rule B\"");
    CHECK_CONTAINS(json, "\"value\":\"evil-b.example\"");
    iocmatch_string_free(json);

    /* one alert per rule, each with its own matches only, in rule order */
    json = detect(d, EVENT_BOTH);
    CHECK(count_alerts(json) == 2);
    const char *a = strstr(json, "\"rule_name\":\"rule A\"");
    const char *b = strstr(json, "\"rule_name\":\"rule B\"");
    CHECK(a != NULL && b != NULL && a < b);
    const char *b_value = strstr(json, "evil-b.example");
    CHECK(b_value != NULL && b_value > b);
    iocmatch_string_free(json);

    /* the time given by the caller */
    int64_t at = 1717200000; /* 2024-06-01T00:00:00Z */
    json = NULL;
    CHECK_OK(iocmatch_detector_detect(d, B("{\"url\": {\"domain\": \"evil-a.example\"}}"), &at, &json));
    CHECK_CONTAINS(json, "\"time_source\":\"caller\"");
    CHECK(count_alerts(json) == 1);
    iocmatch_string_free(json);

    /* disabled again: silent */
    CHECK_OK(iocmatch_rule_disable(store, S("rule B"), NULL));
    json = detect(d, EVENT_B);
    CHECK_STR(json, "[]");
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_detector_refresh(d));
    json = detect(d, EVENT_A);
    CHECK(count_alerts(json) == 1);
    iocmatch_string_free(json);

    /* options: only feed-b's indicators are seen */
    iocmatch_match_options *o = NULL;
    CHECK_OK(iocmatch_match_options_new(&o));
    CHECK_OK(iocmatch_match_options_add_collection(o, S("feed-b")));
    iocmatch_detector *only_b = NULL;
    CHECK_OK(iocmatch_detector_new(store, o, &only_b));
    iocmatch_match_options_free(o);
    CHECK_OK(iocmatch_rule_enable(store, S("rule B"), NULL));
    json = detect(only_b, EVENT_BOTH);
    CHECK(count_alerts(json) == 1);
    CHECK_CONTAINS(json, "\"rule_name\":\"rule B\"");
    iocmatch_string_free(json);
    iocmatch_detector_free(only_b);

    /* errors: bad events, NULLs; out-parameters untouched */
    json = NULL;
    CHECK_RESULT(iocmatch_detector_detect(d, B("{not json"), NULL, &json), IOCMATCH_RESULT_VALIDATION);
    CHECK(strlen(iocmatch_last_error_message()) > 0);
    CHECK(json == NULL);
    CHECK_RESULT(iocmatch_detector_detect(d, B("[1, 2]"), NULL, &json), IOCMATCH_RESULT_VALIDATION);
    CHECK(json == NULL);
    CHECK_RESULT(iocmatch_detector_detect(NULL, B("{}"), NULL, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_CONTAINS(iocmatch_last_error_message(), "detector");
    CHECK_RESULT(iocmatch_detector_detect(d, NULL, 2, NULL, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_CONTAINS(iocmatch_last_error_message(), "event");
    CHECK_RESULT(iocmatch_detector_detect(d, B("{}"), NULL, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_CONTAINS(iocmatch_last_error_message(), "alerts_json_out");
    CHECK(json == NULL);
    CHECK_RESULT(iocmatch_detector_refresh(NULL), IOCMATCH_RESULT_NULL_PARAMETER);

    iocmatch_detector *none = NULL;
    CHECK_RESULT(iocmatch_detector_new(NULL, NULL, &none), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_detector_new(store, NULL, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_OK(iocmatch_match_options_new(&o));
    CHECK_OK(iocmatch_match_options_add_collection(o, S("ghost")));
    CHECK_RESULT(iocmatch_detector_new(store, o, &none), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_CONTAINS(iocmatch_last_error_message(), "ghost");
    iocmatch_match_options_free(o);
    CHECK(none == NULL);

    iocmatch_detector_free(d);
    iocmatch_detector_free(NULL);
}

/* Threads share one detector while another refreshes it. */
static void *detect_many(void *arg) {
    iocmatch_detector *d = arg;
    for (int i = 0; i < 20; i++) {
        char *json = detect(d, EVENT_A);
        CHECK(count_alerts(json) == 1);
        iocmatch_string_free(json);
    }
    return NULL;
}

static void threads(iocmatch_store *store) {
    iocmatch_detector *d = NULL;
    CHECK_OK(iocmatch_detector_new(store, NULL, &d));
    pthread_t t[4];
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, detect_many, d) == 0);
    for (int i = 0; i < 5; i++) CHECK_OK(iocmatch_detector_refresh(d));
    for (int i = 0; i < 4; i++) CHECK(pthread_join(t[i], NULL) == 0);
    iocmatch_detector_free(d);
}

/* A rule enabled through another handle of the same store file is seen after a refresh. */
static void refresh_across_handles(void) {
    char dir[] = "/tmp/iocmatch-ctest-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/store.db", dir);

    iocmatch_store *one = NULL, *two = NULL;
    CHECK_OK(iocmatch_store_open(SZ(path), &one));
    fill(one);
    iocmatch_detector *d = NULL;
    CHECK_OK(iocmatch_detector_new(one, NULL, &d));
    iocmatch_store_free(one); /* the detector keeps its store alive */

    char *json = detect(d, EVENT_B);
    CHECK_STR(json, "[]");
    iocmatch_string_free(json);

    CHECK_OK(iocmatch_store_open(SZ(path), &two));
    CHECK_OK(iocmatch_rule_enable(two, S("rule B"), NULL));
    CHECK_OK(iocmatch_detector_refresh(d));
    json = detect(d, EVENT_B);
    CHECK(count_alerts(json) == 1);
    CHECK_CONTAINS(json, "\"rule_name\":\"rule B\"");
    iocmatch_string_free(json);

    iocmatch_detector_free(d);
    iocmatch_store_free(two);
    char side[300];
    static const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(side, sizeof side, "%s%s", path, suffixes[i]);
        unlink(side);
    }
    rmdir(dir);
}

int main(void) {
    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    fill(store);
    alerts(store);
    threads(store);
    iocmatch_store_free(store);
    refresh_across_handles();
    DONE("test_alerts");
}
