/* The store through the C ABI: open and close (memory and file), communities, collections,
 * threats, the batch payload, text import and its report, list, search, edit, revoke, limits. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <stdint.h>
#include <unistd.h>

struct progress {
    int parse_calls;
    int write_calls;
    uint64_t last_total;
};

static void on_progress(void *userdata, iocmatch_import_stage stage, uint64_t done, uint64_t total) {
    struct progress *p = userdata;
    if (stage == IOCMATCH_IMPORT_STAGE_PARSE) p->parse_calls++;
    if (stage == IOCMATCH_IMPORT_STAGE_WRITE) p->write_calls++;
    if (done > total) {
        fprintf(stderr, "progress: done %llu > total %llu\n", (unsigned long long)done,
                (unsigned long long)total);
        exit(1);
    }
    p->last_total = total;
}

static void versions(void) {
    CHECK_STR(iocmatch_version(), IOCMATCH_VERSION_STRING);
    CHECK(iocmatch_abi_version() == IOCMATCH_ABI_VERSION);
    CHECK_STR(iocmatch_result_name(IOCMATCH_RESULT_NOT_FOUND), "not_found");
    CHECK_STR(iocmatch_result_name(12345), "unknown");
    CHECK_STR(iocmatch_kind_name(IOCMATCH_KIND_SHA256), "sha256");
    CHECK_STR(iocmatch_kind_name(-3), "none");
}

static void communities_and_collections(iocmatch_store *store) {
    char *json = NULL;
    CHECK_OK(iocmatch_community_create(store, S("mssp"), NULL, 0, &json));
    CHECK_CONTAINS(json, "\"name\":\"mssp\"");
    char mssp_id[64];
    json_id(json, mssp_id, sizeof mssp_id);
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_community_create(store, S("client-a"), S("mssp"), NULL));
    CHECK_RESULT(iocmatch_community_create(store, S("client-b"), S("nope"), NULL), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_CONTAINS(iocmatch_last_error_message(), "community not found: 'nope'");
    CHECK_STR(iocmatch_last_error_value(), "nope");
    CHECK_RESULT(iocmatch_community_create(store, S("mssp"), NULL, 0, NULL), IOCMATCH_RESULT_CONFLICT);

    CHECK_OK(iocmatch_community_get(store, S("client-a"), &json));
    CHECK_CONTAINS(json, mssp_id); /* its parent */
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_community_list(store, &json));
    CHECK_CONTAINS(json, "\"default\"");
    CHECK_CONTAINS(json, "\"client-a\"");
    iocmatch_string_free(json);

    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"Phishing\", \"description\": \"Campaign 2024-05\"}"), &json));
    CHECK_CONTAINS(json, "\"id\":\"ioc-collection--");
    CHECK_CONTAINS(json, "\"description\":\"Campaign 2024-05\"");
    iocmatch_string_free(json);
    CHECK_RESULT(iocmatch_collection_create(store, S("{\"name\": \"phishing\"}"), NULL), IOCMATCH_RESULT_CONFLICT);
    CHECK_OK(iocmatch_collection_create(
        store, S("{\"name\": \"Shared\", \"community\": \"mssp\", \"available_for_sub_communities\": true}"), NULL));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"Doomed\"}"), NULL));

    CHECK_OK(iocmatch_collection_list(store, NULL, 0, 0, 0, &json));
    CHECK_CONTAINS(json, "\"total\":3");
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_collection_list(store, S("mssp"), 0, 10, &json));
    CHECK_CONTAINS(json, "\"total\":1");
    CHECK_CONTAINS(json, "\"available_for_sub_communities\":true");
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_collection_list(store, NULL, 0, 1, 1, &json)); /* second page of one */
    CHECK_CONTAINS(json, "\"name\":\"Shared\"");
    iocmatch_string_free(json);

    CHECK_OK(iocmatch_collection_update(store, S("Phishing"), S("{\"description\": null, \"match_subdomains\": true}"), &json));
    CHECK_CONTAINS(json, "\"description\":null");
    CHECK_CONTAINS(json, "\"match_subdomains\":true");
    iocmatch_string_free(json);
    CHECK_RESULT(iocmatch_collection_update(store, S("Phishing"), S("{\"name\": \"Shared\", \"colour\": 1}"), NULL),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "colour");
    CHECK_OK(iocmatch_collection_get(store, S("Phishing"), &json));
    CHECK_CONTAINS(json, "\"name\":\"Phishing\"");
    iocmatch_string_free(json);

    CHECK_OK(iocmatch_indicator_add_batch(store, S("Doomed"), S("{\"indicators\": [{\"value\": \"1.2.3.4\"}]}"), NULL));
    uint64_t deleted = 99;
    CHECK_OK(iocmatch_collection_delete(store, S("Doomed"), &deleted));
    CHECK(deleted == 1);
    CHECK_RESULT(iocmatch_collection_get(store, S("Doomed"), &json), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_collection_delete(store, S("Doomed"), NULL), IOCMATCH_RESULT_NOT_FOUND);
}

static const char BATCH[] =
    "{\"indicators\": ["
    "  {\"value\": \"94.24.86.201\"},"
    "  {\"value\": \"152.10.13.131\", \"valid_until\": \"2030-01-01T00:00:00Z\"},"
    "  {\"value\": \"malware-drop[.]example\", \"kill_chain_phases\": [\"installation\"]},"
    "  {\"value\": \"not/a/valid//value\"}"
    "],"
    "\"default_fields\": {"
    "  \"valid_from\": \"2015-05-07T00:00:00Z\", \"valid_until\": \"2045-05-07T00:00:00Z\","
    "  \"kill_chain_phases\": [{\"kill_chain_name\": \"lockheed-martin-cyber-kill-chain\", \"phase_name\": "
    "\"reconnaissance\"}],"
    "  \"x_ic_related_threat_refs\": [\"APT-29\"]}}";

static void indicators(iocmatch_store *store) {
    char *json = NULL;
    CHECK_OK(iocmatch_threat_add(
        store,
        S("{\"name\": \"APT29\", \"id\": \"intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2\", \"aliases\": "
          "[\"APT-29\"]}"),
        NULL));
    CHECK_OK(iocmatch_threat_list(store, &json));
    CHECK_CONTAINS(json, "\"aliases\":[\"APT-29\"]");
    iocmatch_string_free(json);

    /* the spec's batch payload */
    CHECK_OK(iocmatch_indicator_add_batch(store, S("Phishing"), S(BATCH), &json));
    CHECK_CONTAINS(json, "\"total\":3");
    CHECK_CONTAINS(json, "\"pattern\":\"[ipv4-addr:value = '94.24.86.201']\"");
    CHECK_CONTAINS(json, "\"x_ic_related_threat_refs\":[\"intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2\"]");
    CHECK_CONTAINS(json, "\"errors\":[{\"index\":3,\"value\":\"not/a/valid//value\"");
    char first_id[80];
    json_id(strstr(json, "\"items\""), first_id, sizeof first_id);
    CHECK(strncmp(first_id, "indicator--", 11) == 0);
    iocmatch_string_free(json);
    CHECK_RESULT(iocmatch_indicator_add_batch(store, S("Phishing"), S("{\"indicators\": []}"), NULL),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_RESULT(iocmatch_indicator_add_batch(store, S("Nope"), S(BATCH), NULL), IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_indicator_add_batch(store, S("Phishing"), S("not json"), NULL), IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "invalid batch payload");

    /* text import, with a report */
    static const char FEED[] = "\xEF\xBB\xBF# a feed\r\n"
                               "evil-updates[.]example\r\n"
                               "203.0.113.10:4444\n"
                               "\n"
                               "this is not an indicator\n"
                               "d41d8cd98f00b204e9800998ecf8427e,da39a3ee5e6b4b0d3255bfef95601890afd80709\n"
                               "EVIL-UPDATES.EXAMPLE.\n"
                               "bad\xff\xfe line\n";
    struct progress prog = {0, 0, 0};
    iocmatch_import_report *report = NULL;
    CHECK_OK(iocmatch_import_text(store, S("Phishing"), (const uint8_t *)FEED, sizeof FEED - 1,
                                  S("{\"valid_from\": \"2024-01-01\", \"kill_chain_phases\": [\"delivery\"], "
                                    "\"x_ic_related_threat_refs\": [\"APT29\"], \"description\": \"from C\"}"),
                                  on_progress, &prog, &report));
    CHECK(prog.parse_calls >= 1 && prog.write_calls >= 1);
    CHECK(iocmatch_import_report_lines(report) == 6);
    CHECK(iocmatch_import_report_imported(report) == 3);
    CHECK(iocmatch_import_report_duplicates(report) == 1);
    CHECK(iocmatch_import_report_rejected_count(report) == 2);
    CHECK(iocmatch_import_report_rejected_line(report, 0) == 5);
    CHECK_STR(iocmatch_import_report_rejected_text(report, 0), "this is not an indicator");
    CHECK(strlen(iocmatch_import_report_rejected_reason(report, 0)) > 0);
    CHECK(iocmatch_import_report_rejected_line(report, 1) == 8);
    CHECK_CONTAINS(iocmatch_import_report_rejected_reason(report, 1), "UTF-8");
    CHECK(iocmatch_import_report_rejected_line(report, 2) == 0);
    CHECK(iocmatch_import_report_rejected_text(report, 2) == NULL);
    CHECK(iocmatch_import_report_rejected_reason(report, 2) == NULL);
    CHECK_OK(iocmatch_import_report_to_json(report, &json));
    CHECK_CONTAINS(json, "\"imported\":3");
    CHECK_CONTAINS(json, "{\"line\":5,\"text\":\"this is not an indicator\"");
    iocmatch_string_free(json);
    iocmatch_import_report_free(report);

    /* a forced kind, no defaults object, and an empty input */
    report = NULL;
    CHECK_OK(iocmatch_import_text(store, S("Phishing"), (const uint8_t *)"jdoe\n", 5, S("{\"kind\": \"username\"}"),
                                  NULL, NULL, &report));
    CHECK(iocmatch_import_report_imported(report) == 1);
    iocmatch_import_report_free(report);
    report = NULL;
    CHECK_OK(iocmatch_import_text(store, S("Phishing"), (const uint8_t *)"", 0, NULL, 0, NULL, NULL, &report));
    CHECK(iocmatch_import_report_lines(report) == 0);
    iocmatch_import_report_free(report);
    CHECK_RESULT(iocmatch_import_text(store, S("Phishing"), (const uint8_t *)"x\n", 2,
                                      S("{\"valid_from\": \"2024-01-01\", \"valid_until\": \"2023-01-01\"}"), NULL, NULL,
                                      &report),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_CONTAINS(iocmatch_last_error_message(), "must be after valid_from");

    /* list and search */
    CHECK_OK(iocmatch_indicator_list(store, S("Phishing"), NULL, 0, &json));
    CHECK_CONTAINS(json, "\"total\":7");
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_indicator_list(store, S("Phishing"), S("{\"kind\": \"domain\", \"limit\": 1}"), &json));
    CHECK_CONTAINS(json, "\"total\":2");
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_indicator_search(store, S("Phishing"), S("evil[.]updates"), 0, 0, &json));
    CHECK_CONTAINS(json, "\"total\":0"); /* the term is refanged: "evil.updates" is not in any value */
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_indicator_search(store, S("Phishing"), S("EVIL-updates[.]"), 0, 0, &json));
    CHECK_CONTAINS(json, "\"total\":1");
    CHECK_CONTAINS(json, "\"name\":\"evil-updates.example\"");
    char evil_id[80];
    json_id(strstr(json, "\"items\""), evil_id, sizeof evil_id);
    iocmatch_string_free(json);

    /* get, edit, revoke */
    CHECK_OK(iocmatch_indicator_get(store, SZ(evil_id), &json));
    CHECK_CONTAINS(json, "\"description\":\"from C\"");
    iocmatch_string_free(json);
    CHECK_OK(iocmatch_indicator_edit(store, SZ(evil_id),
                                     S("{\"valid_until\": \"2030-01-01\", \"description\": null, \"kill_chain_phases\": "
                                       "[\"c2\"], \"value\": \"evil-updates[.]example\"}"),
                                     &json));
    CHECK_CONTAINS(json, "\"valid_until\":\"2030-01-01T00:00:00Z\"");
    CHECK(strstr(json, "\"description\"") == NULL);
    CHECK_CONTAINS(json, "\"phase_name\":\"command-and-control\"");
    iocmatch_string_free(json);
    CHECK_RESULT(iocmatch_indicator_edit(store, SZ(evil_id), S("{\"value\": \"good.example\"}"), NULL),
                 IOCMATCH_RESULT_IMMUTABLE_FIELD);
    CHECK_CONTAINS(iocmatch_last_error_message(), "cannot be changed");
    CHECK_RESULT(iocmatch_indicator_edit(store, SZ(evil_id), S("{\"valid_until\": \"2000-01-01\"}"), NULL),
                 IOCMATCH_RESULT_VALIDATION);
    CHECK_OK(iocmatch_indicator_revoke(store, SZ(evil_id), &json));
    CHECK_CONTAINS(json, "\"revoked\":true");
    iocmatch_string_free(json);
    CHECK_RESULT(iocmatch_indicator_revoke(store, SZ(evil_id), NULL), IOCMATCH_RESULT_INVALID_STATE);
    CHECK_RESULT(iocmatch_indicator_edit(store, SZ(evil_id), S("{\"description\": \"x\"}"), NULL),
                 IOCMATCH_RESULT_INVALID_STATE);
    CHECK_OK(iocmatch_indicator_list(store, S("Phishing"), S("{\"revoked\": true}"), &json));
    CHECK_CONTAINS(json, "\"total\":1");
    iocmatch_string_free(json);
    CHECK_RESULT(iocmatch_indicator_get(store, S("indicator--00000000-0000-7000-8000-000000000000"), &json),
                 IOCMATCH_RESULT_NOT_FOUND);
    CHECK_RESULT(iocmatch_indicator_get(store, S("not-an-id"), &json), IOCMATCH_RESULT_VALIDATION);
    CHECK_STR(iocmatch_last_error_value(), "not-an-id");
}

static void file_store_and_limit(void) {
    char dir[] = "/tmp/iocmatch-ctest-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/store.db", dir);

    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open(SZ(path), &store));
    CHECK_OK(iocmatch_collection_create(store, S("{\"name\": \"kept\"}"), NULL));
    CHECK_OK(iocmatch_store_set_limit(store, 2));
    uint64_t max = 0;
    CHECK_OK(iocmatch_store_get_limit(store, &max));
    CHECK(max == 2);
    iocmatch_import_report *report = NULL;
    CHECK_RESULT(iocmatch_import_text(store, S("kept"), (const uint8_t *)"1.1.1.1\n2.2.2.2\n3.3.3.3\n", 24, NULL, 0,
                                      NULL, NULL, &report),
                 IOCMATCH_RESULT_LIMIT_EXCEEDED);
    CHECK(report == NULL);
    CHECK_OK(iocmatch_import_text(store, S("kept"), (const uint8_t *)"1.1.1.1\n2.2.2.2\n", 16, NULL, 0, NULL, NULL,
                                  &report));
    iocmatch_import_report_free(report);
    iocmatch_store_free(store);

    store = NULL;
    CHECK_OK(iocmatch_store_open(SZ(path), &store));
    char *json = NULL;
    CHECK_OK(iocmatch_collection_get(store, S("kept"), &json));
    CHECK_CONTAINS(json, "\"indicator_count\":2");
    iocmatch_string_free(json);
    iocmatch_store_free(store);

    /* a file that is not a store */
    char junk[256];
    snprintf(junk, sizeof junk, "%s/junk.db", dir);
    FILE *f = fopen(junk, "wb");
    CHECK(f != NULL);
    for (int i = 0; i < 8192; i++) fputc(0x5a, f);
    fclose(f);
    store = NULL;
    CHECK_RESULT(iocmatch_store_open(SZ(junk), &store), IOCMATCH_RESULT_STORAGE);
    CHECK(store == NULL);
    CHECK_CONTAINS(iocmatch_last_error_message(), "junk.db");

    unlink(junk);
    snprintf(junk, sizeof junk, "%s/store.db-wal", dir);
    unlink(junk);
    snprintf(junk, sizeof junk, "%s/store.db-shm", dir);
    unlink(junk);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    versions();
    iocmatch_store *store = NULL;
    CHECK_OK(iocmatch_store_open_in_memory(&store));
    CHECK(store != NULL);
    communities_and_collections(store);
    indicators(store);
    iocmatch_store_free(store);
    file_store_and_limit();
    DONE("test_store");
}
