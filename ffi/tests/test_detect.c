/* Detection rules and retrohunt through the C ABI: rules as JSON, alerts by callback (typed
 * cti_retrohunt, with file and line), the margin, bad lines, incremental runs, stopping from the
 * callback, and errors with messages. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <stdint.h>
#include <unistd.h>

struct hunt {
    int alerts;
    int stop_after; /* 0: never stop */
    char last[4096];
    int progress_calls;
    uint64_t done, total;
};

static int on_alert(void *userdata, const char *json, size_t len) {
    struct hunt *h = userdata;
    CHECK(strlen(json) == len);
    h->alerts++;
    snprintf(h->last, sizeof h->last, "%s", json);
    return h->stop_after != 0 && h->alerts >= h->stop_after;
}

static void on_progress(void *userdata, uint64_t done, uint64_t total) {
    struct hunt *h = userdata;
    CHECK(done <= total);
    h->progress_calls++;
    h->done = done;
    h->total = total;
}

static void rules(iocmatch_store *store) {
    char *json = NULL;
    CHECK_OK(iocmatch_rule_list(store, &json));
    CHECK_CONTAINS(json, "\"name\":\"IOC collection: feed\"");
    iocmatch_string_free(json);

    json = NULL;
    CHECK_OK(iocmatch_rule_create(store, S("{\"name\": \"watch\", \"collections\": [\"feed\"], \"enabled\": false}"),
                                  &json));
    CHECK_CONTAINS(json, "\"id\":\"rule--");
    CHECK_CONTAINS(json, "\"enabled\":false");
    iocmatch_string_free(json);
    json = NULL;
    CHECK_OK(iocmatch_rule_enable(store, S("watch"), &json));
    CHECK_CONTAINS(json, "\"enabled\":true");
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_rule_disable(store, S("watch"), NULL));
    CHECK_OK(iocmatch_rule_create(store, S("{\"name\": \"everything\", \"community\": \"default\"}"), NULL));
    CHECK_OK(iocmatch_rule_delete(store, S("everything")));

    json = NULL;
    CHECK_RESULT(iocmatch_rule_create(store, S("{\"name\": \"x\", \"collections\": [\"ghost\"]}"), &json),
                 IOCMATCH_RESULT_NOT_FOUND);
    CHECK_CONTAINS(iocmatch_last_error_message(), "ghost");
    CHECK(json == NULL);
    CHECK_RESULT(iocmatch_rule_create(store, S("{\"name\": \"WATCH\", \"collections\": [\"feed\"]}"), NULL),
                 IOCMATCH_RESULT_CONFLICT);
    CHECK_RESULT(iocmatch_rule_create(store, S("{\"name\": \"x\"}"), NULL), IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "scope");
    CHECK_RESULT(iocmatch_rule_create(store, S("{\"name\": \"x\", \"colections\": []}"), NULL),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_rule_enable(store, S("nope"), NULL), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_rule_delete(store, S("nope")), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_rule_list(store, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_rule_list(NULL, &json), IOCMATCH_RESULT_NULL_PARAMETER);
}

/* Events 4 days before valid_from (alerts), a bad line, 6 days before and 6 days after valid_until
 * (no alert). */
static const char EVENTS[] = "{\"@timestamp\": \"2024-01-06T00:00:00Z\", \"url\": {\"domain\": \"evil.example\"}}\n"
                             "{not json\n"
                             "{\"@timestamp\": \"2024-01-04T00:00:00Z\", \"url\": {\"domain\": \"evil.example\"}}\n"
                             "{\"@timestamp\": \"2024-01-26T00:00:00Z\", \"url\": {\"domain\": \"evil.example\"}}\n";

static void retrohunt(iocmatch_store *store) {
    char dir[] = "/tmp/iocmatch-ctest-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/events.ndjson", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(EVENTS, 1, sizeof EVENTS - 1, f) == sizeof EVENTS - 1);
    CHECK(fclose(f) == 0);

    iocmatch_bytes paths[1] = {{(const uint8_t *)dir, strlen(dir)}};
    struct hunt h = {0};
    char *summary = NULL;
    CHECK_OK(iocmatch_retrohunt_run(store, paths, 1, NULL, 0, on_alert, on_progress, &h, &summary));
    CHECK(h.alerts == 1);
    CHECK_CONTAINS(h.last, "\"detection_type\":\"cti_retrohunt\"");
    CHECK_CONTAINS(h.last, "\"rule_name\":\"IOC collection: feed\"");
    CHECK_CONTAINS(h.last, "events.ndjson\",\"line\":1,");
    CHECK(h.progress_calls >= 1 && h.done == h.total && h.total == sizeof EVENTS - 1);
    CHECK_CONTAINS(summary, "\"alerts\":1");
    CHECK_CONTAINS(summary, "\"events\":3");
    CHECK_CONTAINS(summary, "\"bad_line_details\":[{\"source\":");
    CHECK_CONTAINS(summary, "\"line\":2,");
    iocmatch_string_free(summary);

    /* a wider margin: the events 6 days before and 6 days after alert too */
    memset(&h, 0, sizeof h);
    CHECK_OK(iocmatch_retrohunt_run(store, paths, 1, S("{\"margin\": \"7d\"}"), on_alert, NULL, &h, NULL));
    CHECK(h.alerts == 3);

    /* stopped by the callback */
    memset(&h, 0, sizeof h);
    h.stop_after = 1;
    CHECK_RESULT(iocmatch_retrohunt_run(store, paths, 1, S("{\"margin\": \"7d\"}"), on_alert, NULL, &h, NULL),
                 IOCMATCH_RESULT_ABORTED);

    /* incremental: the second run finds nothing new */
    memset(&h, 0, sizeof h);
    CHECK_OK(iocmatch_retrohunt_run(store, paths, 1, S("{\"incremental\": true}"), on_alert, NULL, &h, NULL));
    CHECK(h.alerts == 1);
    memset(&h, 0, sizeof h);
    summary = NULL;
    CHECK_OK(iocmatch_retrohunt_run(store, paths, 1, S("{\"incremental\": true}"), on_alert, NULL, &h, &summary));
    CHECK(h.alerts == 0);
    CHECK_CONTAINS(summary, "\"files_skipped\":1");
    iocmatch_string_free(summary);

    /* errors */
    summary = NULL;
    CHECK_RESULT(iocmatch_retrohunt_run(store, paths, 1, NULL, 0, NULL, NULL, NULL, &summary),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_retrohunt_run(store, NULL, 1, NULL, 0, on_alert, NULL, &h, &summary),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_retrohunt_run(store, paths, 1, S("{\"margin\": \"5x\"}"), on_alert, NULL, &h, &summary),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "5x");
    CHECK_RESULT(iocmatch_retrohunt_run(store, paths, 1, S("{\"community\": \"ghost\"}"), on_alert, NULL, &h,
                                        &summary),
                 IOCMATCH_RESULT_NOT_FOUND);
    iocmatch_bytes missing[1] = {{(const uint8_t *)"/nonexistent/events", strlen("/nonexistent/events")}};
    CHECK_RESULT(iocmatch_retrohunt_run(store, missing, 1, NULL, 0, on_alert, NULL, &h, &summary), IOCMATCH_RESULT_IO);
    CHECK_CONTAINS(iocmatch_last_error_message(), "/nonexistent/events");
    CHECK(summary == NULL);

    unlink(path);
    rmdir(dir);
}

int main(void) {
    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed\", \"create_rule\": true}"), NULL));
    iocmatch_import_report *r = NULL;
    CHECK_OK(iocmatch_import_text(store, S("feed"), B("evil.example\n"),
                                  S("{\"valid_from\": \"2024-01-10\", \"valid_until\": \"2024-01-20\"}"), NULL, NULL,
                                  &r));
    CHECK(iocmatch_import_report_imported(r) == 1);
    iocmatch_import_report_free(r);
    rules(store);
    retrohunt(store);
    iocmatch_store_free(store);
    DONE("test_detect");
}
