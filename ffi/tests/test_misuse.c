/* Misuse of the C ABI: NULL pointers, invalid UTF-8, input that is not JSON, zero lengths,
 * out-of-range indexes, _free(NULL). Every one must give a result code and a message, never a
 * crash, and leave the out-parameters untouched. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <stdint.h>

#define SENTINEL ((void *)0x1)

static void null_pointers(iocmatch_store *store, iocmatch_matcher *m) {
    iocmatch_store *s = SENTINEL;
    CHECK_RESULT(iocmatch_store_open(NULL, 5, &s), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'path' is NULL");
    CHECK(s == SENTINEL);
    CHECK_RESULT(iocmatch_store_open(S("/tmp/x.db"), NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'store_out' is NULL");
    CHECK_RESULT(iocmatch_store_open_in_memory(NULL), IOCMATCH_RESULT_NULL_PARAMETER);

    char *json = SENTINEL;
    CHECK_RESULT(iocmatch_community_create(NULL, S("x"), NULL, 0, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'store' is NULL");
    CHECK_RESULT(iocmatch_community_create(store, NULL, 3, NULL, 0, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_community_list(store, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_collection_create(store, NULL, 0, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_collection_get(store, S("feed"), NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_collection_list(NULL, NULL, 0, 0, 0, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_collection_update(store, S("feed"), NULL, 0, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_collection_delete(store, NULL, 0, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_threat_add(store, NULL, 0, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_threat_list(store, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_indicator_add_batch(store, S("feed"), NULL, 10, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_indicator_get(store, NULL, 0, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_indicator_list(store, S("feed"), NULL, 0, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_indicator_search(store, NULL, 0, NULL, 0, 0, 0, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_indicator_edit(store, S("indicator--x"), NULL, 0, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_indicator_revoke(NULL, S("indicator--x"), &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(json == SENTINEL);
    iocmatch_import_report *report = SENTINEL;
    CHECK_RESULT(iocmatch_import_text(store, S("feed"), NULL, 0, NULL, 0, NULL, NULL, &report),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'data' is NULL");
    CHECK_RESULT(iocmatch_import_text(store, S("feed"), (const uint8_t *)"x", 1, NULL, 0, NULL, NULL, NULL),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(report == SENTINEL);
    CHECK_RESULT(iocmatch_import_report_to_json(NULL, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_store_get_limit(NULL, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_store_set_limit(NULL, 1), IOCMATCH_RESULT_NULL_PARAMETER);

    iocmatch_index *index = SENTINEL;
    CHECK_RESULT(iocmatch_index_compile(NULL, &index), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_index_compile(store, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_index_load(NULL, 0, &index), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_index_save(NULL, S("/tmp/x.idx")), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(index == SENTINEL);
    CHECK(iocmatch_index_len(NULL) == 0);
    CHECK(iocmatch_index_size_bytes(NULL) == 0);

    iocmatch_matcher *mm = SENTINEL;
    CHECK_RESULT(iocmatch_matcher_new(NULL, NULL, &mm), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_new_live(NULL, NULL, &mm), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_new_live(store, NULL, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(mm == SENTINEL);
    CHECK_RESULT(iocmatch_matcher_refresh(NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_swap(m, NULL), IOCMATCH_RESULT_NULL_PARAMETER);

    iocmatch_matches *list = SENTINEL;
    CHECK_RESULT(iocmatch_matcher_match_event(NULL, (const uint8_t *)"{}", 2, NULL, &list),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_match_event(m, NULL, 0, NULL, &list), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'event' is NULL");
    CHECK_RESULT(iocmatch_matcher_match_event(m, (const uint8_t *)"{}", 2, NULL, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_match_event_cb(m, (const uint8_t *)"{}", 2, NULL, NULL, NULL),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'callback' is NULL");
    CHECK_RESULT(iocmatch_matcher_match_batch(m, NULL, 1, NULL, &list), IOCMATCH_RESULT_NULL_PARAMETER);
    iocmatch_bytes events[2] = {{(const uint8_t *)"{}", 2}, {NULL, 0}};
    CHECK_RESULT(iocmatch_matcher_match_batch(m, events, 2, NULL, &list), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'events[1].data' is NULL");
    CHECK_RESULT(iocmatch_matcher_match_batch_cb(m, events, 1, NULL, NULL, NULL, NULL),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_match_fields(m, NULL, 0, NULL, &list), IOCMATCH_RESULT_NULL_PARAMETER);
    iocmatch_field_value pairs[1] = {{S("source.ip"), NULL, 0}};
    CHECK_RESULT(iocmatch_matcher_match_fields(m, pairs, 1, NULL, &list), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'fields[0].value' is NULL");
    CHECK_RESULT(iocmatch_matcher_scan_text(m, NULL, 4, NULL, &list), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_scan_text_cb(m, (const uint8_t *)"x", 1, NULL, NULL, NULL),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(list == SENTINEL);
    CHECK_RESULT(iocmatch_matcher_match_ndjson(m, NULL, 0, NULL, NULL, NULL, NULL, NULL),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_match_ndjson_stream(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_scan_text_lines(NULL, (const uint8_t *)"x", 1, NULL, NULL, NULL, NULL),
                 IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_matcher_scan_text_stream(m, NULL, NULL, NULL, NULL, NULL, NULL),
                 IOCMATCH_RESULT_NULL_PARAMETER);

    iocmatch_match_options *o = SENTINEL;
    CHECK_RESULT(iocmatch_match_options_new(NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_match_options_set_community(NULL, S("x")), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_match_options_add_collection(NULL, S("x")), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_match_options_set_profile(NULL, S("strict")), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_match_options_set_profile_text(NULL, S("")), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_match_options_set_default_time(NULL, 0), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(o == SENTINEL);

    /* accessors of NULL lists and reports */
    iocmatch_match one;
    CHECK_RESULT(iocmatch_matches_get(NULL, 0, &one), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(iocmatch_matches_count(NULL) == 0);
    CHECK(iocmatch_matches_event_count(NULL) == 0);
    CHECK(iocmatch_matches_event_result(NULL, 0) == IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(iocmatch_matches_event_error(NULL, 0) == NULL);
    CHECK(iocmatch_matches_indicator_id(NULL, 0) == NULL);
    CHECK(iocmatch_matches_value(NULL, 0) == NULL);
    CHECK(iocmatch_matches_kind(NULL, 0) == IOCMATCH_KIND_NONE);
    CHECK(iocmatch_matches_offset(NULL, 0) == 0);
    CHECK(iocmatch_matches_event_time(NULL, 0) == 0);
    CHECK(iocmatch_matches_event_time_source(NULL, 0) == IOCMATCH_TIME_SOURCE_NONE);
    CHECK_RESULT(iocmatch_matches_to_json(NULL, &json), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(iocmatch_import_report_lines(NULL) == 0);
    CHECK(iocmatch_import_report_rejected_count(NULL) == 0);
    CHECK(iocmatch_import_report_rejected_text(NULL, 0) == NULL);
}

static void bad_text(iocmatch_store *store, iocmatch_matcher *m) {
    char *json = SENTINEL;
    /* invalid UTF-8 in a name, an id, a JSON document, a field pair */
    CHECK_RESULT(iocmatch_community_create(store, S("bad\xff name"), NULL, 0, &json), IOCMATCH_RESULT_INVALID_UTF8);
    CHECK_STR(iocmatch_last_error_message(), "parameter 'name' is not valid UTF-8 (invalid byte at offset 3)");
    CHECK_CONTAINS(iocmatch_last_error_value(), "bad");
    CHECK_RESULT(iocmatch_collection_get(store, S("\xc3"), &json), IOCMATCH_RESULT_INVALID_UTF8);
    CHECK_RESULT(iocmatch_collection_create(store, S("{\"name\": \"\xe2\x82\"}"), &json), IOCMATCH_RESULT_INVALID_UTF8);
    CHECK_CONTAINS(iocmatch_last_error_message(), "params_json");
    CHECK_RESULT(iocmatch_indicator_add_batch(store, S("feed"), S("{\"indicators\": [{\"value\": \"\xff\"}]}"), &json),
                 IOCMATCH_RESULT_INVALID_UTF8);
    iocmatch_import_report *report = SENTINEL;
    CHECK_RESULT(iocmatch_import_text(store, S("feed"), (const uint8_t *)"x", 1, S("{\"kind\": \"\xff\"}"), NULL, NULL,
                                      &report),
                 IOCMATCH_RESULT_INVALID_UTF8);
    CHECK(report == SENTINEL);
    iocmatch_matches *list = SENTINEL;
    iocmatch_field_value pairs[2] = {{S("source.ip"), S("1.2.3.4")}, {S("source.ip"), S("1.2\xff")}};
    CHECK_RESULT(iocmatch_matcher_match_fields(m, pairs, 2, NULL, &list), IOCMATCH_RESULT_INVALID_UTF8);
    CHECK_CONTAINS(iocmatch_last_error_message(), "fields[1].value");

    /* input that is not JSON, or JSON of the wrong shape */
    CHECK_RESULT(iocmatch_collection_create(store, S("name=feed"), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "parameter 'params_json' is not the expected JSON");
    CHECK_STR(iocmatch_last_error_value(), "name=feed");
    CHECK_RESULT(iocmatch_collection_create(store, S("[\"feed\"]"), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_collection_create(store, S("{\"name\": 5}"), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_collection_update(store, S("feed"), S("{\"description\": "), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_indicator_add_batch(store, S("feed"), S("{\"indicators\": 5}"), &json),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_indicator_list(store, S("feed"), S("{\"limit\": -1}"), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_threat_add(store, S("APT29"), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK(json == SENTINEL);
    CHECK_RESULT(iocmatch_import_text(store, S("feed"), (const uint8_t *)"x", 1, S("nope"), NULL, NULL, &report),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_matcher_match_event(m, B("{\"a\": [1, 2"), NULL, &list),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "invalid json");
    CHECK_RESULT(iocmatch_matcher_match_event(m, B("\"a string\""), NULL, &list),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_matcher_match_event(m, B("{\xff\xfe}"), NULL, &list),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK(list == SENTINEL);

    /* zero lengths */
    CHECK_RESULT(iocmatch_community_create(store, S(""), NULL, 0, &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_collection_create(store, S(""), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_collection_create(store, S("{\"name\": \"\"}"), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_collection_get(store, S(""), &json), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_indicator_get(store, S(""), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_indicator_add_batch(store, S("feed"), S(""), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_store_open(S(""), (iocmatch_store **)&json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_index_load(S(""), (iocmatch_index **)&json), IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_store_open(S("/tmp/a\0b.db"), (iocmatch_store **)&json), IOCMATCH_RESULT_VALIDATION);
    CHECK(json == SENTINEL);
    CHECK_RESULT(iocmatch_matcher_match_event(m, B(""), NULL, &list), IOCMATCH_RESULT_VALIDATION);
    CHECK(list == SENTINEL);
    list = NULL;
    CHECK_OK(iocmatch_matcher_scan_text(m, B(""), NULL, &list));
    CHECK(iocmatch_matches_count(list) == 0);
    iocmatch_matches_free(list);
    list = NULL;
    iocmatch_field_value pairs_none[1] = {{S("x"), S("y")}};
    CHECK_OK(iocmatch_matcher_match_fields(m, pairs_none, 0, NULL, &list));
    CHECK(iocmatch_matches_count(list) == 0 && iocmatch_matches_event_count(list) == 1);
    iocmatch_matches_free(list);
    list = NULL;
    iocmatch_field_value empty[1] = {{S(""), S("")}};
    CHECK_OK(iocmatch_matcher_match_fields(m, empty, 1, NULL, &list));
    CHECK(iocmatch_matches_count(list) == 0);
    iocmatch_matches_free(list);

    /* absurd lengths and out-of-range indexes */
    list = SENTINEL;
    CHECK_RESULT(iocmatch_matcher_match_event(m, (const uint8_t *)"{}", SIZE_MAX, NULL, &list),
                 IOCMATCH_RESULT_INVALID_ARGUMENT);
    iocmatch_bytes some[1] = {{B("{}")}};
    CHECK_RESULT(iocmatch_matcher_match_batch(m, some, SIZE_MAX, NULL, &list),
                 IOCMATCH_RESULT_INVALID_ARGUMENT);
    CHECK(list == SENTINEL);
    list = NULL;
    CHECK_OK(iocmatch_matcher_match_event(m, B("{}"), NULL, &list));
    iocmatch_match one;
    CHECK_RESULT(iocmatch_matches_get(list, 0, &one), IOCMATCH_RESULT_INVALID_ARGUMENT);
    CHECK_CONTAINS(iocmatch_last_error_message(), "out of range");
    CHECK_RESULT(iocmatch_matches_get(list, 0, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(iocmatch_matches_event_result(list, 5) == IOCMATCH_RESULT_INVALID_ARGUMENT);
    CHECK(iocmatch_matches_observable(list, SIZE_MAX) == NULL);
    iocmatch_matches_free(list);
}

static void errors_and_frees(iocmatch_store *store) {
    char *json = NULL;
    iocmatch_last_error_clear();
    CHECK_STR(iocmatch_last_error_message(), "");
    CHECK(iocmatch_last_error_code() == IOCMATCH_RESULT_OK);
    CHECK(iocmatch_last_error_value() == NULL);
    CHECK(iocmatch_last_error_line() == 0);
    CHECK_RESULT(iocmatch_collection_get(store, S("no such feed"), &json), IOCMATCH_RESULT_NOT_FOUND);
    CHECK(iocmatch_last_error_code() == IOCMATCH_RESULT_NOT_FOUND);
    CHECK_STR(iocmatch_last_error_message(), "collection not found: 'no such feed'");
    CHECK_STR(iocmatch_last_error_value(), "no such feed");
    /* success keeps the last error */
    CHECK_OK(iocmatch_collection_get(store, S("feed"), &json));
    iocmatch_string_free(json);
    CHECK(iocmatch_last_error_code() == IOCMATCH_RESULT_NOT_FOUND);
    iocmatch_last_error_clear();
    CHECK(iocmatch_last_error_code() == IOCMATCH_RESULT_OK);

    iocmatch_store_free(NULL);
    iocmatch_index_free(NULL);
    iocmatch_matcher_free(NULL);
    iocmatch_matches_free(NULL);
    iocmatch_match_options_free(NULL);
    iocmatch_import_report_free(NULL);
    iocmatch_string_free(NULL);
    CHECK(iocmatch_last_error_code() == IOCMATCH_RESULT_OK);
}

int main(void) {
    /* threads: once, before any matching */
    CHECK_OK(iocmatch_threads_init(2));
    CHECK_RESULT(iocmatch_threads_init(2), IOCMATCH_RESULT_INVALID_STATE);

    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed\"}"), NULL));
    iocmatch_index *index = NULL;
    CHECK_OK(iocmatch_index_compile(store, &index));
    iocmatch_matcher *m = NULL;
    CHECK_OK(iocmatch_matcher_new(index, NULL, &m));

    null_pointers(store, m);
    bad_text(store, m);
    errors_and_frees(store);

    iocmatch_matcher_free(m);
    iocmatch_index_free(index);
    iocmatch_store_free(store);
    DONE("test_misuse");
}
