/* Matching through the C ABI: compile, save and load an index; one event, a batch, field pairs,
 * raw text, NDJSON buffers and streams; results by callback and by owned list; options; live
 * matchers and swapping in a fresh index. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <stdint.h>
#include <unistd.h>

static const char FEED[] = "evil-updates.example\n"
                           "203.0.113.66\n"
                           "198.51.100.0/24\n"
                           "billing@evil-updates.example\n"
                           "d41d8cd98f00b204e9800998ecf8427e\n"
                           "https://cdn.evil-updates.example/gate.php\n";
static const char C2[] = "203.0.113.5\n";

static const char EVENT[] = "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"source\":{\"ip\":\"10.0.0.1\"},"
                            "\"destination\":{\"ip\":\"203.0.113.66\"},\"dns\":{\"question\":{\"name\":"
                            "\"www.evil-updates.example\"}}}";

static iocmatch_store *make_store(char *feed_id, size_t cap) {
    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    char *json = NULL;
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed\", \"match_subdomains\": true}"), &json));
    json_id(json, feed_id, cap);
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"c2\"}"), NULL));
    iocmatch_import_report *r = NULL;
    CHECK_OK(iocmatch_import_text(store, S("feed"), (const uint8_t *)FEED, sizeof FEED - 1,
                                  S("{\"valid_from\": \"2024-01-01\"}"), NULL, NULL, &r));
    CHECK(iocmatch_import_report_imported(r) == 6);
    iocmatch_import_report_free(r);
    r = NULL;
    CHECK_OK(iocmatch_import_text(store, S("c2"), (const uint8_t *)C2, sizeof C2 - 1,
                                  S("{\"valid_from\": \"2024-01-01\", \"valid_until\": \"2027-01-01\", "
                                    "\"kill_chain_phases\": [\"c2\"]}"),
                                  NULL, NULL, &r));
    iocmatch_import_report_free(r);
    return store;
}

/* Counts matches and remembers the last one's field; stops after `stop_after` when it is set. */
struct seen {
    int count;
    int stop_after;
    uint64_t last_event;
    char last_field[64];
    char last_value[128];
    int bad_lines;
    uint64_t last_bad_line;
};

static int on_match(void *userdata, const iocmatch_match *m) {
    struct seen *s = userdata;
    s->count++;
    s->last_event = m->event;
    snprintf(s->last_field, sizeof s->last_field, "%.*s", (int)m->field.len, m->field.data);
    snprintf(s->last_value, sizeof s->last_value, "%.*s", (int)m->value.len, m->value.data);
    if (m->indicator_id.data == NULL || strncmp(m->indicator_id.data, "indicator--", 11) != 0) return 2;
    if (m->kind == IOCMATCH_KIND_NONE || m->time_source == IOCMATCH_TIME_SOURCE_NONE) return 3;
    return s->stop_after > 0 && s->count >= s->stop_after;
}

static int on_bad_line(void *userdata, uint64_t line, const char *message) {
    struct seen *s = userdata;
    s->bad_lines++;
    s->last_bad_line = line;
    return message == NULL || message[0] == '\0';
}

/* A read callback serving a buffer a few bytes at a time. */
struct reader {
    const char *data;
    size_t len, pos, chunk;
    int fail;
};

static int read_chunks(void *userdata, uint8_t *buf, size_t len, size_t *read_out) {
    struct reader *r = userdata;
    if (r->fail) return 42;
    size_t n = r->len - r->pos;
    if (n > r->chunk) n = r->chunk;
    if (n > len) n = len;
    memcpy(buf, r->data + r->pos, n);
    r->pos += n;
    *read_out = n;
    return 0;
}

static void one_event(const iocmatch_matcher *m) {
    iocmatch_matches *list = NULL;
    CHECK_OK(iocmatch_matcher_match_event(m, B(EVENT), NULL, &list));
    CHECK(iocmatch_matches_count(list) == 2);
    CHECK(iocmatch_matches_event_count(list) == 1);
    CHECK(iocmatch_matches_event_result(list, 0) == IOCMATCH_RESULT_OK);
    CHECK(iocmatch_matches_event_time(list, 0) == 1748764800); /* 2025-06-01T08:00:00Z */
    CHECK(iocmatch_matches_event_time_source(list, 0) == IOCMATCH_TIME_SOURCE_EVENT);
    CHECK_STR(iocmatch_matches_field(list, 0), "destination.ip");
    CHECK_STR(iocmatch_matches_value(list, 0), "203.0.113.66");
    CHECK_STR(iocmatch_matches_observable(list, 0), "203.0.113.66");
    CHECK(iocmatch_matches_kind(list, 0) == IOCMATCH_KIND_IPV4);
    CHECK(strncmp(iocmatch_matches_indicator_id(list, 0), "indicator--", 11) == 0);
    CHECK(strncmp(iocmatch_matches_collection_id(list, 0), "ioc-collection--", 16) == 0);
    CHECK(iocmatch_matches_offset(list, 0) == (size_t)(strstr(EVENT, "\"203.0.113.66") - EVENT)); /* its quote */
    CHECK(iocmatch_matches_event(list, 0) == 0);
    CHECK_STR(iocmatch_matches_field(list, 1), "dns.question.name");
    CHECK_STR(iocmatch_matches_value(list, 1), "www.evil-updates.example");
    CHECK_STR(iocmatch_matches_observable(list, 1), "evil-updates.example"); /* sub-domain match */
    CHECK(iocmatch_matches_kind(list, 1) == IOCMATCH_KIND_DOMAIN);
    iocmatch_match one;
    CHECK_OK(iocmatch_matches_get(list, 1, &one));
    CHECK(one.value.len == strlen("www.evil-updates.example"));
    CHECK(one.kind == IOCMATCH_KIND_DOMAIN && one.time == 1748764800);
    CHECK_RESULT(iocmatch_matches_get(list, 2, &one), IOCMATCH_RESULT_INVALID_ARGUMENT);
    CHECK(iocmatch_matches_field(list, 2) == NULL);
    CHECK(iocmatch_matches_kind(list, 2) == IOCMATCH_KIND_NONE);
    char *json = NULL;
    CHECK_OK(iocmatch_matches_to_json(list, &json));
    CHECK_CONTAINS(json, "\"field\":\"destination.ip\"");
    CHECK_CONTAINS(json, "\"time_source\":\"event\"");
    iocmatch_string_free(json);
    iocmatch_matches_free(list);

    /* before the indicators were valid: nothing */
    int64_t at = 1600000000;
    list = NULL;
    CHECK_OK(iocmatch_matcher_match_event(m, (const uint8_t *)EVENT, sizeof EVENT - 1, &at, &list));
    CHECK(iocmatch_matches_count(list) == 0);
    CHECK(iocmatch_matches_event_time(list, 0) == at);
    CHECK(iocmatch_matches_event_time_source(list, 0) == IOCMATCH_TIME_SOURCE_CALLER);
    iocmatch_matches_free(list);

    /* the C2 rule: a C2 address matches destination.ip only */
    static const char C2_AS_SOURCE[] = "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"source\":{\"ip\":\"203.0.113.5\"}}";
    static const char C2_AS_DEST[] = "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"destination.ip\":\"203.0.113.5\"}";
    struct seen s = {0};
    CHECK_OK(iocmatch_matcher_match_event_cb(m, (const uint8_t *)C2_AS_SOURCE, sizeof C2_AS_SOURCE - 1, NULL,
                                             on_match, &s));
    CHECK(s.count == 0);
    CHECK_OK(iocmatch_matcher_match_event_cb(m, (const uint8_t *)C2_AS_DEST, sizeof C2_AS_DEST - 1, NULL, on_match,
                                             &s));
    CHECK(s.count == 1);
    CHECK_STR(s.last_field, "destination.ip");

    /* a callback that stops */
    struct seen stop = {0};
    stop.stop_after = 1;
    CHECK_RESULT(iocmatch_matcher_match_event_cb(m, (const uint8_t *)EVENT, sizeof EVENT - 1, NULL, on_match, &stop),
                 IOCMATCH_RESULT_ABORTED);
    CHECK(stop.count == 1);

    /* not an event */
    list = NULL;
    CHECK_RESULT(iocmatch_matcher_match_event(m, (const uint8_t *)"[1,2]", 5, NULL, &list), IOCMATCH_RESULT_VALIDATION);
    CHECK(list == NULL);
}

static void batch_fields_and_raw(const iocmatch_matcher *m) {
    static const char E0[] = "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"url\":{\"original\":"
                             "\"HTTPS://CDN.Evil-Updates.Example/gate.php\"}}";
    static const char E1[] = "not json at all";
    static const char E2[] = "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"email\":{\"from\":{\"address\":"
                             "[\"Billing@evil-updates.example\"]}},\"process\":{\"hash\":{\"md5\":"
                             "\"D41D8CD98F00B204E9800998ECF8427E\"}}}";
    iocmatch_bytes events[3] = {{(const uint8_t *)E0, sizeof E0 - 1},
                                {(const uint8_t *)E1, sizeof E1 - 1},
                                {(const uint8_t *)E2, sizeof E2 - 1}};
    iocmatch_matches *list = NULL;
    CHECK_OK(iocmatch_matcher_match_batch(m, events, 3, NULL, &list));
    CHECK(iocmatch_matches_event_count(list) == 3);
    CHECK(iocmatch_matches_event_result(list, 0) == IOCMATCH_RESULT_OK);
    CHECK(iocmatch_matches_event_result(list, 1) == IOCMATCH_RESULT_VALIDATION);
    CHECK(iocmatch_matches_event_error(list, 1) != NULL);
    CHECK(iocmatch_matches_event_error(list, 0) == NULL);
    CHECK(iocmatch_matches_event_time_source(list, 1) == IOCMATCH_TIME_SOURCE_NONE);
    CHECK(iocmatch_matches_count(list) == 3);
    CHECK(iocmatch_matches_event(list, 0) == 0 && iocmatch_matches_kind(list, 0) == IOCMATCH_KIND_URL);
    CHECK(iocmatch_matches_event(list, 1) == 2 && iocmatch_matches_kind(list, 1) == IOCMATCH_KIND_EMAIL);
    CHECK(iocmatch_matches_event(list, 2) == 2 && iocmatch_matches_kind(list, 2) == IOCMATCH_KIND_MD5);
    CHECK_STR(iocmatch_matches_observable(list, 2), "d41d8cd98f00b204e9800998ecf8427e");
    iocmatch_matches_free(list);

    struct seen s = {0};
    uint64_t failed = 99;
    CHECK_OK(iocmatch_matcher_match_batch_cb(m, events, 3, NULL, on_match, &s, &failed));
    CHECK(s.count == 3 && failed == 1 && s.last_event == 2);
    list = NULL;
    CHECK_OK(iocmatch_matcher_match_batch(m, events, 0, NULL, &list)); /* an empty batch */
    CHECK(iocmatch_matches_event_count(list) == 0);
    iocmatch_matches_free(list);

    /* pre-extracted pairs */
    iocmatch_field_value pairs[3] = {
        {S("destination.ip"), S("198.51.100.23")},
        {S("no.such.field"), S("203.0.113.66")},
        {S("dns.question.name"), S("EVIL-UPDATES.EXAMPLE.")},
    };
    int64_t at = 1748764800;
    list = NULL;
    CHECK_OK(iocmatch_matcher_match_fields(m, pairs, 3, &at, &list));
    CHECK(iocmatch_matches_count(list) == 2);
    CHECK(iocmatch_matches_kind(list, 0) == IOCMATCH_KIND_CIDR);
    CHECK_STR(iocmatch_matches_observable(list, 0), "198.51.100.0/24");
    CHECK(iocmatch_matches_offset(list, 1) == 2); /* the pair's position */
    iocmatch_matches_free(list);
    memset(&s, 0, sizeof s);
    CHECK_OK(iocmatch_matcher_match_fields_cb(m, pairs, 3, &at, on_match, &s));
    CHECK(s.count == 2);
    CHECK_STR(s.last_value, "EVIL-UPDATES.EXAMPLE.");

    /* raw text */
    static const char LINE[] = "GET http://203.0.113.66/x (notevil-updates.example) from 198.51.100.9:5123";
    list = NULL;
    CHECK_OK(iocmatch_matcher_scan_text(m, (const uint8_t *)LINE, sizeof LINE - 1, &at, &list));
    CHECK(iocmatch_matches_count(list) == 2);
    CHECK_STR(iocmatch_matches_field(list, 0), "raw");
    CHECK_STR(iocmatch_matches_value(list, 0), "203.0.113.66");
    CHECK(iocmatch_matches_offset(list, 0) == 11);
    CHECK_STR(iocmatch_matches_value(list, 1), "198.51.100.9");
    iocmatch_matches_free(list);
    memset(&s, 0, sizeof s);
    CHECK_OK(iocmatch_matcher_scan_text_cb(m, (const uint8_t *)LINE, sizeof LINE - 1, &at, on_match, &s));
    CHECK(s.count == 2);
}

static const char NDJSON[] =
    "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"destination\":{\"ip\":\"203.0.113.66\"}}\n"
    "\n"
    "this line is not JSON\n"
    "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"source\":{\"ip\":\"10.1.1.1\"}}\r\n"
    "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"related\":{\"ip\":[\"10.0.0.1\",\"198.51.100.7\"]}}";

static void streams(const iocmatch_matcher *m) {
    struct seen s = {0};
    iocmatch_stream_summary sum;
    memset(&sum, 0xff, sizeof sum);
    CHECK_OK(iocmatch_matcher_match_ndjson(m, (const uint8_t *)NDJSON, sizeof NDJSON - 1, NULL, on_match, on_bad_line,
                                           &s, &sum));
    CHECK(sum.events == 3 && sum.matched_events == 2 && sum.matches == 2 && sum.bad_lines == 1);
    CHECK(sum.bytes == sizeof NDJSON - 1);
    CHECK(s.count == 2 && s.last_event == 5 && s.bad_lines == 1 && s.last_bad_line == 3);
    CHECK_STR(s.last_field, "related.ip");

    /* the same through a read callback, 7 bytes at a time */
    struct reader r = {NDJSON, sizeof NDJSON - 1, 0, 7, 0};
    struct seen t = {0};
    memset(&sum, 0, sizeof sum);
    CHECK_OK(iocmatch_matcher_match_ndjson_stream(m, read_chunks, &r, NULL, on_match, NULL, &t, &sum));
    CHECK(sum.events == 3 && sum.matches == 2 && sum.bad_lines == 1 && t.count == 2 && t.last_event == 5);

    /* a failing reader, a bad-line callback that stops, an empty buffer */
    struct reader bad = {NDJSON, sizeof NDJSON - 1, 0, 7, 1};
    CHECK_RESULT(iocmatch_matcher_match_ndjson_stream(m, read_chunks, &bad, NULL, on_match, NULL, &t, NULL),
                 IOCMATCH_RESULT_IO);
    CHECK_CONTAINS(iocmatch_last_error_message(), "code 42");
    struct seen u = {0};
    u.stop_after = 1;
    CHECK_RESULT(iocmatch_matcher_match_ndjson(m, (const uint8_t *)NDJSON, sizeof NDJSON - 1, NULL, on_match,
                                               on_bad_line, &u, NULL),
                 IOCMATCH_RESULT_ABORTED);
    CHECK(u.count == 1 && u.bad_lines == 0);
    memset(&sum, 0xff, sizeof sum);
    CHECK_OK(iocmatch_matcher_match_ndjson(m, (const uint8_t *)"", 0, NULL, on_match, NULL, &s, &sum));
    CHECK(sum.events == 0 && sum.bytes == 0);

    /* raw text lines */
    static const char LOG[] = "Jun  1 08:00:00 fw: deny 10.0.0.1 -> 203.0.113.66:443\n"
                              "nothing here\n"
                              "\xff\xfe binary but 198.51.100.200 still found\n";
    int64_t at = 1748764800;
    struct seen v = {0};
    CHECK_OK(iocmatch_matcher_scan_text_lines(m, (const uint8_t *)LOG, sizeof LOG - 1, &at, on_match, &v, &sum));
    CHECK(sum.events == 3 && sum.matched_events == 2 && v.count == 2 && v.last_event == 3);
    CHECK_STR(v.last_field, "raw");
    struct reader rl = {LOG, sizeof LOG - 1, 0, 5, 0};
    struct seen w = {0};
    CHECK_OK(iocmatch_matcher_scan_text_stream(m, read_chunks, &rl, &at, on_match, &w, NULL));
    CHECK(w.count == 2);
}

static void options(const iocmatch_index *index, const char *feed_id) {
    iocmatch_match_options *o = NULL;
    CHECK_OK(iocmatch_match_options_new(&o));
    CHECK_OK(iocmatch_match_options_set_profile(o, S("strict")));
    CHECK_OK(iocmatch_match_options_set_profile_text(o, S("include default\nfw.dst ip\n")));
    iocmatch_matcher *m = NULL;
    CHECK_OK(iocmatch_matcher_new(index, o, &m));
    static const char FW[] = "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"fw\":{\"dst\":\"203.0.113.66\"}}";
    iocmatch_matches *list = NULL;
    CHECK_OK(iocmatch_matcher_match_event(m, (const uint8_t *)FW, sizeof FW - 1, NULL, &list));
    CHECK(iocmatch_matches_count(list) == 1);
    CHECK_STR(iocmatch_matches_field(list, 0), "fw.dst");
    iocmatch_matches_free(list);
    iocmatch_matcher_free(m);

    /* only the c2 collection: the feed's indicators are not reported; an unknown collection */
    iocmatch_match_options_free(o);
    o = NULL;
    CHECK_OK(iocmatch_match_options_new(&o));
    CHECK_OK(iocmatch_match_options_add_collection(o, SZ(feed_id)));
    CHECK_OK(iocmatch_match_options_set_default_time(o, 1748764800));
    m = NULL;
    CHECK_OK(iocmatch_matcher_new(index, o, &m));
    static const char NO_TIME[] = "{\"destination\":{\"ip\":\"203.0.113.66\"}}";
    list = NULL;
    CHECK_OK(iocmatch_matcher_match_event(m, (const uint8_t *)NO_TIME, sizeof NO_TIME - 1, NULL, &list));
    CHECK(iocmatch_matches_count(list) == 1);
    CHECK(iocmatch_matches_event_time(list, 0) == 1748764800);
    CHECK(iocmatch_matches_event_time_source(list, 0) == IOCMATCH_TIME_SOURCE_DEFAULT);
    iocmatch_matches_free(list);
    iocmatch_matcher_free(m);
    iocmatch_match_options_free(o);

    o = NULL;
    CHECK_OK(iocmatch_match_options_new(&o));
    CHECK_OK(iocmatch_match_options_add_collection(o, S("ioc-collection--00000000-0000-4000-8000-000000000000")));
    m = NULL;
    CHECK_RESULT(iocmatch_matcher_new(index, o, &m), IOCMATCH_RESULT_NOT_FOUND);
    CHECK(m == NULL);
    iocmatch_match_options_free(o);
    o = NULL;
    CHECK_OK(iocmatch_match_options_new(&o));
    CHECK_OK(iocmatch_match_options_set_community(o, S("not a uuid")));
    CHECK_RESULT(iocmatch_matcher_new(index, o, &m), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_match_options_set_profile(o, S("/nonexistent/profile.txt")), IOCMATCH_RESULT_IO);
    CHECK_RESULT(iocmatch_match_options_set_profile_text(o, S("source.ip colour\n")), IOCMATCH_RESULT_VALIDATION);
    iocmatch_match_options_free(o);
}

static void live_and_swap(iocmatch_store *store, const iocmatch_index *old_index) {
    static const char NEW_EVENT[] = "{\"@timestamp\":\"2025-06-01T08:00:00Z\",\"destination\":{\"ip\":\"192.0.2.77\"}}";
    const uint8_t *ev = (const uint8_t *)NEW_EVENT;
    size_t ev_len = sizeof NEW_EVENT - 1;

    /* a live matcher, with options by name, sees imports and revocations at the next match */
    iocmatch_match_options *o = NULL;
    CHECK_OK(iocmatch_match_options_new(&o));
    CHECK_OK(iocmatch_match_options_set_community(o, S("default")));
    CHECK_OK(iocmatch_match_options_add_collection(o, S("feed")));
    iocmatch_matcher *live = NULL;
    CHECK_OK(iocmatch_matcher_new_live(store, o, &live));
    iocmatch_match_options_free(o);
    struct seen s = {0};
    CHECK_OK(iocmatch_matcher_match_event_cb(live, ev, ev_len, NULL, on_match, &s));
    CHECK(s.count == 0);
    char *json = NULL;
    CHECK_OK(iocmatch_indicator_add_batch(
        store, S("feed"), S("{\"indicators\": [{\"value\": \"192.0.2.77\", \"valid_from\": \"2024-01-01\"}]}"), &json));
    char id[80];
    json_id(strstr(json, "\"items\""), id, sizeof id);
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_matcher_match_event_cb(live, ev, ev_len, NULL, on_match, &s));
    CHECK(s.count == 1);
    CHECK_OK(iocmatch_indicator_revoke(store, SZ(id), NULL));
    CHECK_OK(iocmatch_matcher_refresh(live));
    CHECK_OK(iocmatch_matcher_match_event_cb(live, ev, ev_len, NULL, on_match, &s));
    CHECK(s.count == 1);
    CHECK_RESULT(iocmatch_matcher_swap(live, old_index), IOCMATCH_RESULT_INVALID_ARGUMENT);

    /* a fixed matcher does not follow the store until a fresh index is swapped in */
    CHECK_OK(iocmatch_indicator_add_batch(
        store, S("feed"), S("{\"indicators\": [{\"value\": \"192.0.2.77\", \"valid_from\": \"2024-01-01\"}]}"), NULL));
    iocmatch_matcher *fixed = NULL;
    CHECK_OK(iocmatch_matcher_new(old_index, NULL, &fixed));
    CHECK_RESULT(iocmatch_matcher_refresh(fixed), IOCMATCH_RESULT_INVALID_ARGUMENT);
    s.count = 0;
    CHECK_OK(iocmatch_matcher_match_event_cb(fixed, ev, ev_len, NULL, on_match, &s));
    CHECK(s.count == 0);
    iocmatch_index *fresh = NULL;
    CHECK_OK(iocmatch_index_compile(store, &fresh));
    CHECK_OK(iocmatch_matcher_swap(fixed, fresh));
    iocmatch_index_free(fresh); /* the matcher shares it */
    CHECK_OK(iocmatch_matcher_match_event_cb(fixed, ev, ev_len, NULL, on_match, &s));
    CHECK(s.count == 1);
    iocmatch_matcher_free(fixed);
    iocmatch_matcher_free(live);
}

static void index_files(const iocmatch_index *index) {
    char dir[] = "/tmp/iocmatch-ctest-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], junk[256];
    snprintf(path, sizeof path, "%s/iocs.idx", dir);
    snprintf(junk, sizeof junk, "%s/junk.idx", dir);
    CHECK_OK(iocmatch_index_save(index, SZ(path)));
    iocmatch_index *loaded = NULL;
    CHECK_OK(iocmatch_index_load(SZ(path), &loaded));
    CHECK(iocmatch_index_len(loaded) == iocmatch_index_len(index));
    CHECK(iocmatch_index_size_bytes(loaded) == iocmatch_index_size_bytes(index));
    iocmatch_matcher *m = NULL;
    CHECK_OK(iocmatch_matcher_new(loaded, NULL, &m));
    iocmatch_index_free(loaded);
    iocmatch_matches *list = NULL;
    CHECK_OK(iocmatch_matcher_match_event(m, B(EVENT), NULL, &list));
    CHECK(iocmatch_matches_count(list) == 2);
    iocmatch_matches_free(list);
    iocmatch_matcher_free(m);

    /* a damaged copy, a foreign file, a missing file */
    FILE *in = fopen(path, "rb");
    FILE *out = fopen(junk, "wb");
    CHECK(in != NULL && out != NULL);
    int c, i = 0;
    while ((c = fgetc(in)) != EOF) fputc(i++ == 100 ? (c ^ 0x55) : c, out);
    fclose(in);
    fclose(out);
    loaded = NULL;
    CHECK_RESULT(iocmatch_index_load(SZ(junk), &loaded), IOCMATCH_RESULT_CORRUPT);
    CHECK(loaded == NULL);
    CHECK_CONTAINS(iocmatch_last_error_message(), "junk.idx");
    out = fopen(junk, "wb");
    CHECK(out != NULL);
    fputs("{\"not\": \"an index\"}\n", out);
    fclose(out);
    CHECK_RESULT(iocmatch_index_load(SZ(junk), &loaded), IOCMATCH_RESULT_CORRUPT);
    unlink(junk);
    CHECK_RESULT(iocmatch_index_load(SZ(junk), &loaded), IOCMATCH_RESULT_IO);
    CHECK_RESULT(iocmatch_index_save(index, S("/nonexistent-dir/x.idx")), IOCMATCH_RESULT_IO);
    unlink(path);
    rmdir(dir);
}

/* A live matcher keeps its store alive: the caller may free its store handle first. */
static void live_outlives_store_handle(void) {
    char feed_id[80];
    iocmatch_store *store = make_store(feed_id, sizeof feed_id);
    iocmatch_matcher *live = NULL;
    CHECK_OK(iocmatch_matcher_new_live(store, NULL, &live));
    iocmatch_store_free(store);
    iocmatch_matches *list = NULL;
    CHECK_OK(iocmatch_matcher_match_event(live, B(EVENT), NULL, &list));
    CHECK(iocmatch_matches_count(list) == 2);
    iocmatch_matches_free(list);
    CHECK_OK(iocmatch_matcher_refresh(live));
    iocmatch_matcher_free(live);
}

int main(void) {
    char feed_id[80];
    iocmatch_store *store = make_store(feed_id, sizeof feed_id);
    iocmatch_index *index = NULL;
    CHECK_OK(iocmatch_index_compile(store, &index));
    CHECK(iocmatch_index_len(index) == 7);
    CHECK(iocmatch_index_size_bytes(index) > 0);

    iocmatch_matcher *m = NULL;
    CHECK_OK(iocmatch_matcher_new(index, NULL, &m));
    one_event(m);
    batch_fields_and_raw(m);
    streams(m);
    iocmatch_matcher_free(m);

    options(index, feed_id);
    index_files(index);
    live_and_swap(store, index);
    iocmatch_index_free(index);
    iocmatch_store_free(store);
    live_outlives_store_handle();
    DONE("test_match");
}
