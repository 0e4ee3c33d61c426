/* Interchange formats through the C ABI: STIX 2.1 and MISP imports with their reports, the
 * STIX 2.1 bundle and text blocklist exports, a STIX round trip, and misuse (NULLs, bad input,
 * out-parameters untouched on failure). */
#include "check.h"

#include <stdint.h>

static const char BUNDLE[] =
    "{\"type\": \"bundle\", \"id\": \"bundle--1\", \"objects\": ["
    "{\"type\": \"intrusion-set\", \"id\": \"intrusion-set--6f2a3c1e-0000-4000-8000-0000000000c1\","
    " \"name\": \"C Bear\", \"created\": \"2024-01-01T00:00:00Z\", \"modified\": \"2024-01-01T00:00:00Z\"},"
    "{\"type\": \"indicator\", \"id\": \"indicator--c1\", \"pattern\":"
    " \"[ipv4-addr:value = '203.0.113.5' OR domain-name:value = 'c-evil.com']\", \"pattern_type\": \"stix\","
    " \"valid_from\": \"2024-01-01T00:00:00Z\", \"kill_chain_phases\": [{\"kill_chain_name\":"
    " \"lockheed-martin-cyber-kill-chain\", \"phase_name\": \"delivery\"}]},"
    "{\"type\": \"indicator\", \"id\": \"indicator--c2\", \"pattern\": \"[process:name = 'x.exe']\","
    " \"valid_from\": \"2024-01-01T00:00:00Z\"},"
    "{\"type\": \"relationship\", \"id\": \"relationship--c3\", \"relationship_type\": \"indicates\","
    " \"source_ref\": \"indicator--c1\", \"target_ref\": \"intrusion-set--6f2a3c1e-0000-4000-8000-0000000000c1\"}"
    "]}";

static const char MISP[] =
    "{\"Event\": {\"info\": \"from C\", \"Attribute\": ["
    "{\"type\": \"ip-dst|port\", \"value\": \"198.51.100.4|443\", \"to_ids\": true},"
    "{\"type\": \"filename|md5\", \"value\": \"a.exe|d41d8cd98f00b204e9800998ecf8427e\", \"to_ids\": true},"
    "{\"type\": \"hostname\", \"value\": \"quiet.c-evil.com\", \"to_ids\": false}]}}";

struct progress {
    int parse, write;
    uint64_t last_done, last_total;
};

static void on_progress(void *userdata, iocmatch_import_stage stage, uint64_t done, uint64_t total) {
    struct progress *p = userdata;
    if (stage == IOCMATCH_IMPORT_STAGE_PARSE) {
        p->parse++;
    } else {
        p->write++;
    }
    p->last_done = done;
    p->last_total = total;
}

static void stix(iocmatch_store *store) {
    iocmatch_import_report *report = NULL;
    struct progress prog = {0, 0, 0, 0};
    CHECK_OK(iocmatch_import_stix(store, S("feed"), B(BUNDLE), on_progress, &prog, &report));
    CHECK(prog.parse >= 1 && prog.write >= 1 && prog.last_done == prog.last_total);
    CHECK(iocmatch_import_report_lines(report) == 2);
    CHECK(iocmatch_import_report_imported(report) == 2);
    CHECK(iocmatch_import_report_rejected_count(report) == 1);
    CHECK(iocmatch_import_report_rejected_line(report, 0) == 3);
    CHECK_STR(iocmatch_import_report_rejected_text(report, 0), "indicator--c2");
    CHECK_CONTAINS(iocmatch_import_report_rejected_reason(report, 0), "process:name = 'x.exe' is not supported");
    iocmatch_import_report_free(report);

    char *json = NULL;
    CHECK_OK(iocmatch_threat_list(store, &json));
    CHECK_CONTAINS(json, "\"id\":\"intrusion-set--6f2a3c1e-0000-4000-8000-0000000000c1\",\"name\":\"C Bear\"");
    iocmatch_string_free(json);

    /* bad input: a clear error, the out-parameter untouched */
    report = (iocmatch_import_report *)&report;
    iocmatch_import_report *const sentinel = report;
    CHECK_RESULT(iocmatch_import_stix(store, S("feed"), B("not json"), NULL, NULL, &report), IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "invalid STIX JSON");
    CHECK(report == sentinel);
    CHECK_RESULT(iocmatch_import_stix(store, S("nope"), B(BUNDLE), NULL, NULL, &report), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_import_stix(store, S("feed"), NULL, 0, NULL, NULL, &report), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_import_stix(store, S("feed"), B(BUNDLE), NULL, NULL, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK_RESULT(iocmatch_import_stix(NULL, S("feed"), B(BUNDLE), NULL, NULL, &report), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(report == sentinel);
}

static void misp(iocmatch_store *store) {
    iocmatch_import_report *report = NULL;
    struct progress prog = {0, 0, 0, 0};
    CHECK_OK(iocmatch_import_misp(store, S("feed"), B(MISP), false, on_progress, &prog, &report));
    CHECK(prog.parse >= 1 && prog.write >= 1 && prog.last_done == prog.last_total);
    CHECK(iocmatch_import_report_lines(report) == 3);
    CHECK(iocmatch_import_report_imported(report) == 2);
    CHECK(iocmatch_import_report_rejected_count(report) == 1);
    CHECK_CONTAINS(iocmatch_import_report_rejected_reason(report, 0), "to_ids");
    char *json = NULL;
    CHECK_OK(iocmatch_import_report_to_json(report, &json));
    CHECK_CONTAINS(json, "\"text\":\"hostname quiet.c-evil.com\"");
    iocmatch_string_free(json);
    iocmatch_import_report_free(report);
    CHECK_OK(iocmatch_import_misp(store, S("feed"), B(MISP), true, NULL, NULL, &report));
    CHECK(iocmatch_import_report_imported(report) == 1);
    CHECK(iocmatch_import_report_duplicates(report) == 2);
    iocmatch_import_report_free(report);
    report = NULL;
    CHECK_RESULT(iocmatch_import_misp(store, S("feed"), B("{\"x\": 1}"), false, NULL, NULL, &report), IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "not a MISP event");
    CHECK(report == NULL);
}

static void exports(iocmatch_store *store) {
    char *text = NULL;
    CHECK_OK(iocmatch_export_text(store, S("feed"), NULL, 0, &text));
    CHECK_STR(text, "203.0.113.5\n198.51.100.4\nc-evil.com\nquiet.c-evil.com\nd41d8cd98f00b204e9800998ecf8427e\n");
    iocmatch_string_free(text);
    CHECK_OK(iocmatch_export_text(store, S("feed"), S("domain"), &text));
    CHECK_STR(text, "c-evil.com\nquiet.c-evil.com\n");
    iocmatch_string_free(text);
    text = NULL;
    CHECK_RESULT(iocmatch_export_text(store, S("feed"), S("colour"), &text), IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "unknown observable kind 'colour'");
    CHECK(text == NULL);
    CHECK_RESULT(iocmatch_export_text(store, S("nope"), NULL, 0, &text), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_export_text(store, S("feed"), NULL, 0, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
    CHECK(text == NULL);

    char *bundle = NULL;
    CHECK_OK(iocmatch_export_stix(store, S("feed"), &bundle));
    CHECK_CONTAINS(bundle, "\"type\": \"bundle\"");
    CHECK_CONTAINS(bundle, "\"relationship_type\": \"indicates\"");
    CHECK_CONTAINS(bundle, "\"name\": \"C Bear\"");
    CHECK_CONTAINS(bundle, "\"pattern\": \"[domain-name:value = 'c-evil.com']\"");
    CHECK_RESULT(iocmatch_export_stix(store, S("nope"), &text), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_export_stix(store, S("feed"), NULL), IOCMATCH_RESULT_NULL_PARAMETER);

    /* round trip into another collection */
    char *json = NULL;
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"copy\"}"), &json));
    iocmatch_string_free(json);
    iocmatch_import_report *report = NULL;
    CHECK_OK(iocmatch_import_stix(store, S("copy"), (const uint8_t *)bundle, strlen(bundle), NULL, NULL, &report));
    CHECK(iocmatch_import_report_imported(report) == 5);
    CHECK(iocmatch_import_report_rejected_count(report) == 0);
    iocmatch_import_report_free(report);
    iocmatch_string_free(bundle);
    CHECK_OK(iocmatch_export_text(store, S("copy"), NULL, 0, &text));
    CHECK_STR(text, "203.0.113.5\n198.51.100.4\nc-evil.com\nquiet.c-evil.com\nd41d8cd98f00b204e9800998ecf8427e\n");
    iocmatch_string_free(text);
}

int main(void) {
    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    char *json = NULL;
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed\"}"), &json));
    iocmatch_string_free(json);
    stix(store);
    misp(store);
    exports(store);
    iocmatch_store_free(store);
    DONE("test_interchange");
}
