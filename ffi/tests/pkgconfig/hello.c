/* Built by `make install-check` against an installed iocmatch, found with pkg-config. */
#include <iocmatch.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    if (strcmp(iocmatch_version(), IOCMATCH_VERSION_STRING) != 0 || iocmatch_abi_version() != IOCMATCH_ABI_VERSION) {
        fprintf(stderr, "hello: header %s, library %s\n", IOCMATCH_VERSION_STRING, iocmatch_version());
        return 1;
    }
    iocmatch_store *store = NULL;
    if (iocmatch_store_open_in_memory(&store) != IOCMATCH_RESULT_OK) {
        fprintf(stderr, "hello: %s\n", iocmatch_last_error_message());
        return 1;
    }
    iocmatch_store_free(store);
    printf("hello: iocmatch %s\n", iocmatch_version());
    return 0;
}
