/* Telemetry reports through the C ABI: over archives (a directory of NDJSON files),
 * over events in memory, from the sightings a matcher recorded; reading, listing and deleting
 * saved reports; bad arguments are errors with messages, never crashes. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define EV1 "{\"@timestamp\":\"2024-06-01T23:59:59Z\",\"dns\":{\"question\":{\"name\":\"evil.example\"}}," \
            "\"destination\":{\"domain\":\"evil.example\"}}"
#define EV2 "{\"@timestamp\":\"2024-06-02T00:00:00Z\",\"destination\":{\"ip\":\"203.0.113.7\"}}"
#define EV3 "{\"@timestamp\":\"2024-06-02T12:00:00Z\",\"url\":{\"original\":\"http://evil.example/gate\"}}"
#define EV_OLD "{\"@timestamp\":\"2022-01-01T00:00:00Z\",\"destination\":{\"domain\":\"evil.example\"}}"

static const char OPTIONS[] = "{\"until\": \"2025-01-01\", \"window\": \"365d\"}";

static iocmatch_bytes bytes_of(const char *s) {
    iocmatch_bytes b = {(const uint8_t *)s, strlen(s)};
    return b;
}

static void check_report(const char *json) {
    CHECK_CONTAINS(json, "\"id\":\"telemetry-report--");
    /* ordered by sightings; the URL indicator is not a telemetry kind; the 2022 event is out */
    CHECK_CONTAINS(json, "\"observable\":\"evil.example\",\"kind\":\"domain\",\"sightings\":1");
    CHECK_CONTAINS(json, "\"observable\":\"203.0.113.7\",\"kind\":\"ipv4\",\"sightings\":1");
    /* a tie: by observable */
    CHECK(strstr(json, "\"observable\":\"203.0.113.7\"") < strstr(json, "\"observable\":\"evil.example\""));
    CHECK(strstr(json, "gate") == NULL);
    CHECK_CONTAINS(json, "\"days\":[{\"date\":\"2024-06-01\",\"count\":1}]");
    CHECK_CONTAINS(json, "\"window_start\":\"2024-01-02T00:00:00Z\"");
    CHECK_CONTAINS(json, "\"indicators_seen\":2");
}

struct bytes_seen {
    int calls;
    uint64_t done, total;
};

static void on_bytes(void *userdata, uint64_t done, uint64_t total) {
    struct bytes_seen *s = userdata;
    s->calls++;
    if (done > s->done) {
        s->done = done;
    }
    s->total = total;
}

static void from_archive(iocmatch_store *store, char *id, size_t cap) {
    char dir[] = "/tmp/iocmatch-telemetry-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[128];
    snprintf(file, sizeof file, "%s/events.ndjson", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fputs(EV1 "\n" EV2 "\n" EV3 "\nnot json\n" EV_OLD "\n", f);
    fclose(f);

    iocmatch_bytes paths[1] = {bytes_of(dir)};
    char *json = NULL;
    struct bytes_seen seen = {0, 0, 0};
    CHECK_OK(iocmatch_telemetry_run(store, S("feed"), paths, 1, S(OPTIONS), on_bytes, &seen, &json));
    CHECK(seen.calls >= 1 && seen.done == seen.total && seen.total > 0);
    check_report(json);
    CHECK_CONTAINS(json, "\"source\":\"events\",\"events\":4");
    CHECK_CONTAINS(json, "\"archive\":{\"files\":1");
    CHECK_CONTAINS(json, "\"bad_lines\":1");
    json_id(json, id, cap);
    iocmatch_string_free(json);

    /* a missing path, a bad window, an unknown key, an unknown collection, NULLs */
    json = NULL;
    iocmatch_bytes missing[1] = {bytes_of("/no/such/archive")};
    CHECK_RESULT(iocmatch_telemetry_run(store, S("feed"), missing, 1, NULL, 0, NULL, NULL, &json), IOCMATCH_RESULT_IO);
    CHECK_CONTAINS(iocmatch_last_error_message(), "/no/such/archive");
    CHECK_RESULT(iocmatch_telemetry_run(store, S("feed"), paths, 1, S("{\"window\": \"5x\"}"), NULL, NULL, &json),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "'5x'");
    CHECK_RESULT(iocmatch_telemetry_run(store, S("feed"), paths, 1, S("{\"windw\": \"5d\"}"), NULL, NULL, &json),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "windw");
    CHECK_RESULT(iocmatch_telemetry_run(store, S("nope"), paths, 1, NULL, 0, NULL, NULL, &json), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_telemetry_run(store, S("feed"), NULL, 1, NULL, 0, NULL, NULL, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_telemetry_run(store, S("feed"), paths, 1, NULL, 0, NULL, NULL, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_telemetry_run(NULL, S("feed"), paths, 1, NULL, 0, NULL, NULL, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(json == NULL);

    CHECK(unlink(file) == 0);
    CHECK(rmdir(dir) == 0);
}

static void from_events(iocmatch_store *store) {
    iocmatch_bytes events[5] = {bytes_of(EV1), bytes_of(EV2), bytes_of(EV3), bytes_of("[1,2]"), bytes_of(EV_OLD)};
    char *json = NULL;
    CHECK_OK(iocmatch_telemetry_from_events(store, S("feed"), events, 5, S(OPTIONS), &json));
    check_report(json);
    CHECK(strstr(json, "\"archive\"") == NULL);
    iocmatch_string_free(json);
    /* none at all: an empty report */
    json = NULL;
    CHECK_OK(iocmatch_telemetry_from_events(store, S("feed"), NULL, 0, NULL, 0, &json));
    CHECK_CONTAINS(json, "\"rows\":[]");
    iocmatch_string_free(json);
}

static void from_sightings(iocmatch_store *store) {
    iocmatch_match_options *o = NULL;
    CHECK_OK(iocmatch_match_options_new(&o));
    CHECK_OK(iocmatch_match_options_set_record_sightings(o, true));
    CHECK_RESULT(iocmatch_match_options_set_record_sightings(NULL, true), IOCMATCH_RESULT_NULL_PARAMETER);
    iocmatch_matcher *live = NULL;
    CHECK_OK(iocmatch_matcher_new_live(store, o, &live));
    iocmatch_match_options_free(o);
    const char *events[4] = {EV1, EV2, EV3, EV_OLD};
    for (int i = 0; i < 4; i++) {
        iocmatch_matches *list = NULL;
        CHECK_OK(iocmatch_matcher_match_event(live, (const uint8_t *)events[i], strlen(events[i]), NULL, &list));
        /* valid in 2030 only: no match, yet counted */
        CHECK(iocmatch_matches_count(list) == 0);
        iocmatch_matches_free(list);
    }
    uint64_t written = 99;
    CHECK_OK(iocmatch_matcher_flush_sightings(live, NULL, &written));
    CHECK(written == 4);
    CHECK_OK(iocmatch_matcher_flush_sightings(live, NULL, &written));
    CHECK(written == 0);
    CHECK_RESULT(iocmatch_matcher_flush_sightings(NULL, NULL, &written), IOCMATCH_RESULT_NULL_PARAMETER);
    iocmatch_matcher_free(live);

    char *json = NULL;
    CHECK_OK(iocmatch_telemetry_from_sightings(store, S("feed"), S(OPTIONS), &json));
    CHECK_CONTAINS(json, "\"source\":\"sightings\"");
    CHECK_CONTAINS(json, "\"observable\":\"evil.example\",\"kind\":\"domain\",\"sightings\":1");
    CHECK_CONTAINS(json, "\"first_seen\":\"2024-06-01T00:00:00Z\"");
    iocmatch_string_free(json);

    /* a matcher without a recorder flushes nothing */
    iocmatch_matcher *plain = NULL;
    CHECK_OK(iocmatch_matcher_new_live(store, NULL, &plain));
    CHECK_OK(iocmatch_matcher_flush_sightings(plain, NULL, &written));
    CHECK(written == 0);
    iocmatch_matcher_free(plain);
}

static void read_back(iocmatch_store *store, const char *id) {
    char *json = NULL;
    CHECK_OK(iocmatch_telemetry_report_get(store, SZ(id), &json));
    check_report(json);
    iocmatch_string_free(json);
    json = NULL;
    CHECK_OK(iocmatch_telemetry_report_list(store, S("feed"), &json));
    CHECK(json[0] == '[');
    CHECK_CONTAINS(json, id);
    CHECK(strstr(json, "\"rows\"") == NULL);
    iocmatch_string_free(json);

    CHECK_OK(iocmatch_telemetry_report_delete(store, SZ(id)));
    json = NULL;
    CHECK_RESULT(iocmatch_telemetry_report_get(store, SZ(id), &json), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_CONTAINS(iocmatch_last_error_message(), id);
    CHECK(json == NULL);
    CHECK_RESULT(iocmatch_telemetry_report_delete(store, SZ(id)), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_telemetry_report_list(store, S("nope"), &json), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_telemetry_report_get(store, S("x"), NULL), IOCMATCH_RESULT_NULL_PARAMETER);
}

int main(void) {
    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed\"}"), NULL));
    iocmatch_import_report *r = NULL;
    CHECK_OK(iocmatch_import_text(store, S("feed"), B("evil.example\n203.0.113.7\nhttp://evil.example/gate\n"),
                                  S("{\"valid_from\": \"2030-01-01T00:00:00Z\"}"), NULL, NULL, &r));
    CHECK(iocmatch_import_report_imported(r) == 3);
    iocmatch_import_report_free(r);

    char id[128];
    from_archive(store, id, sizeof id);
    from_events(store);
    from_sightings(store);
    read_back(store, id);
    iocmatch_store_free(store);
    DONE("test_telemetry");
}
