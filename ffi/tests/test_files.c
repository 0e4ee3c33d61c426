/* File import (preview, process with a mapping and defaults, rejected rows with their row
 * numbers) and CSV export through the C ABI; bad payloads and corrupt workbooks are errors with
 * messages, never crashes. */
#include "check.h"

#include <stdint.h>

/* BOM, CRLF, ';' delimiter, a quoted cell over two lines, two hashes of one file in a cell,
 * several phases in a cell, an Excel serial date, and two bad rows. */
static const char CSV[] = "\xEF\xBB\xBFIOC;First seen;Kill chain;Comment\r\n"
                          "evil[.]example;2024-05-07;c2, delivery;\"two\r\nlines\"\r\n"
                          "203.0.113.5;45419;;=1+1\r\n"
                          "d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930;;;\r\n"
                          "not an ioc;2024-05-07;;\r\n"
                          "bad-date.example;yesterday;;\r\n";

struct progress {
    int calls;
    uint64_t last_done, last_total;
};

static void on_progress(void *userdata, iocmatch_import_stage stage, uint64_t done, uint64_t total) {
    struct progress *p = userdata;
    (void)stage;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

static void preview(iocmatch_store *store) {
    char *json = NULL;
    CHECK_OK(iocmatch_file_preview(store, S("feed"), B(CSV), S("iocs.csv"), &json));
    CHECK_CONTAINS(json, "\"mapping\":[\"observable\",\"valid_from\",\"kill_chain_phases\",\"description\"]");
    CHECK_CONTAINS(json, "\"ignore_first_line\":true");
    CHECK_CONTAINS(json, "\"file_handle\":\"iocs.csv\"");
    CHECK_CONTAINS(json, "[\"IOC\",\"First seen\",\"Kill chain\",\"Comment\"]");
    CHECK_CONTAINS(json, "\"two\\r\\nlines\"");
    CHECK_CONTAINS(json, "\"delimiter\":\";\"");
    iocmatch_string_free(json);

    /* no filename; a corrupt workbook; an unknown collection */
    json = NULL;
    CHECK_OK(iocmatch_file_preview(store, S("feed"), B("evil.example\n"), NULL, 0, &json));
    CHECK_CONTAINS(json, "\"file_handle\":null");
    iocmatch_string_free(json);
    json = NULL;
    CHECK_RESULT(iocmatch_file_preview(store, S("feed"), B("PK\x03\x04 no zip"), S("x.xlsx"), &json),
                 IOCMATCH_RESULT_CORRUPT);
    CHECK_CONTAINS(iocmatch_last_error_message(), "xlsx");
    CHECK(json == NULL);
    CHECK_RESULT(iocmatch_file_preview(store, S("nope"), B(CSV), NULL, 0, &json), IOCMATCH_RESULT_NOT_FOUND);
    /* delimited text has no worksheets: the sheet is ignored; NULL is the first worksheet */
    CHECK_OK(iocmatch_file_preview_sheet(store, S("feed"), B(CSV), NULL, 0, S("Sheet2"), &json));
    CHECK_CONTAINS(json, "\"delimiter\":\";\"");
    iocmatch_string_free(json);
    json = NULL;
    CHECK_RESULT(iocmatch_file_preview_sheet(store, S("feed"), B("PK\x03\x04 no zip"), S("x.xlsx"), NULL, 0, &json),
                 IOCMATCH_RESULT_CORRUPT);
    CHECK(json == NULL);
    CHECK_RESULT(iocmatch_file_preview(store, S("feed"), B(CSV), NULL, 0, NULL), IOCMATCH_RESULT_NULL_PARAMETER);
}

static void process(iocmatch_store *store) {
    struct progress prog = {0, 0, 0};
    iocmatch_import_report *report = NULL;
    CHECK_OK(iocmatch_file_import(store, S("feed"), B(CSV), S("iocs.csv"), NULL, 0, on_progress, &prog, &report));
    CHECK(prog.calls >= 2 && prog.last_done == prog.last_total);
    CHECK(iocmatch_import_report_lines(report) == 5);
    CHECK(iocmatch_import_report_imported(report) == 3);
    CHECK(iocmatch_import_report_rejected_count(report) == 2);
    CHECK(iocmatch_import_report_rejected_line(report, 0) == 5);
    CHECK_STR(iocmatch_import_report_rejected_text(report, 0), "not an ioc");
    CHECK(iocmatch_import_report_rejected_line(report, 1) == 6);
    CHECK_CONTAINS(iocmatch_import_report_rejected_reason(report, 1), "invalid date 'yesterday'");
    iocmatch_import_report_free(report);

    /* the spec's files/process payload: mapping, first line, defaults */
    report = NULL;
    CHECK_OK(iocmatch_file_import(store, S("other"), B(CSV), NULL, 0,
                                  S("{\"file_handle\": \"x\", \"mapping\": [\"observable\", null, null, null], "
                                    "\"ignore_first_line\": true, \"description\": \"from C\", "
                                    "\"x_ic_related_threat_refs\": [\"APT29\"], \"valid_until\": \"2030-01-01\"}"),
                                  NULL, NULL, &report));
    CHECK(iocmatch_import_report_imported(report) == 4);
    CHECK(iocmatch_import_report_rejected_count(report) == 1);
    iocmatch_import_report_free(report);

    /* errors: a bad payload, a mapping without observable, a corrupt workbook */
    report = NULL;
    CHECK_RESULT(iocmatch_file_import(store, S("feed"), B(CSV), NULL, 0, S("{\"mapping\": 3}"), NULL, NULL, &report),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "process_json");
    CHECK_RESULT(iocmatch_file_import(store, S("feed"), B(CSV), NULL, 0, S("[1]"), NULL, NULL, &report),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_file_import(store, S("feed"), B(CSV), NULL, 0, S("{\"mapping\": [null, \"valid_from\"]}"),
                                      NULL, NULL, &report),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "no 'observable' column");
    CHECK_RESULT(iocmatch_file_import(store, S("feed"), B("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 no ole"), S("x.xls"), NULL,
                                      0, NULL, NULL, &report),
                 IOCMATCH_RESULT_CORRUPT);
    CHECK(report == NULL);
    CHECK_RESULT(iocmatch_file_import(NULL, S("feed"), B(CSV), NULL, 0, NULL, 0, NULL, NULL, &report),
                 IOCMATCH_RESULT_NULL_PARAMETER);
}

static void export_csv(iocmatch_store *store) {
    char *csv = NULL;
    CHECK_OK(iocmatch_export_csv(store, S("feed"), &csv));
    CHECK(strncmp(csv, "observable,kind,valid_from,valid_until,kill_chain_phases,threats,description,created,"
                       "modified,revoked,id\n",
                  strlen("observable,kind,valid_from,valid_until,kill_chain_phases,threats,description,created,"
                         "modified,revoked,id\n")) == 0);
    CHECK_CONTAINS(csv, "evil.example,domain,2024-05-07T00:00:00Z,,");
    CHECK_CONTAINS(csv, "\"two\r\nlines\"");
    CHECK_CONTAINS(csv, ",'=1+1,"); /* the formula is neutralised */
    CHECK_CONTAINS(csv, "d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930\",\"md5,sha1\"");
    iocmatch_string_free(csv);
    csv = NULL;
    CHECK_RESULT(iocmatch_export_csv(store, S("nope"), &csv), IOCMATCH_RESULT_NOT_FOUND);
    CHECK(csv == NULL);
    CHECK_RESULT(iocmatch_export_csv(store, S("feed"), NULL), IOCMATCH_RESULT_NULL_PARAMETER);
}

/* A real legacy Excel workbook with two worksheets (run from the repository root). */
static void worksheets(iocmatch_store *store) {
    FILE *f = fopen("testdata/files/iocs.xls", "rb");
    CHECK(f != NULL);
    static uint8_t xls[64 * 1024];
    size_t n = fread(xls, 1, sizeof xls, f);
    fclose(f);
    CHECK(n > 0 && n < sizeof xls);
    char *json = NULL;
    CHECK_OK(iocmatch_file_preview(store, S("feed"), xls, n, S("iocs.xls"), &json));
    CHECK_CONTAINS(json, "\"sheets\":[\"IOCs\",\"More IOCs\"]");
    CHECK_CONTAINS(json, "\"sheet\":\"IOCs\"");
    iocmatch_string_free(json);
    json = NULL;
    CHECK_OK(iocmatch_file_preview_sheet(store, S("feed"), xls, n, S("iocs.xls"), S("2"), &json));
    CHECK_CONTAINS(json, "\"sheet\":\"More IOCs\"");
    CHECK_CONTAINS(json, "198.51.100.7");
    iocmatch_string_free(json);
    json = NULL;
    CHECK_RESULT(iocmatch_file_preview_sheet(store, S("feed"), xls, n, S("iocs.xls"), S("Sheet9"), &json),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "'More IOCs'");
    CHECK(json == NULL);
    iocmatch_import_report *report = NULL;
    CHECK_OK(iocmatch_file_import(store, S("other"), xls, n, S("iocs.xls"), S("{\"sheet\": \"more iocs\"}"), NULL,
                                  NULL, &report));
    CHECK(iocmatch_import_report_imported(report) == 2);
    CHECK(iocmatch_import_report_rejected_count(report) == 0);
    iocmatch_import_report_free(report);
}

int main(void) {
    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"feed\"}"), NULL));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"other\"}"), NULL));
    CHECK_OK(iocmatch_threat_add(store, S("{\"name\": \"APT29\"}"), NULL));
    preview(store);
    process(store);
    export_csv(store);
    worksheets(store);
    iocmatch_store_free(store);
    DONE("test_files");
}
