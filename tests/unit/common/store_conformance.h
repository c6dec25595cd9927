// store_conformance.h: what the conformance suite's files share: the store
// under test (store_conformance.c picks the backend) and the cases each
// file adds to the suite every backend runs.
#ifndef HD_TEST_STORE_CONFORMANCE_H
#define HD_TEST_STORE_CONFORMANCE_H

#include "common/store.h"

// conformance_open_store opens another handle on the store under test (the
// test fails when it cannot); the caller closes it.
struct hd_store *conformance_open_store(void);

// The recording cases (store_conformance_rec.c).
void rec_create_get_list(void **state);
void rec_chunks_order_and_duplicates(void **state);
void rec_state_changes(void **state);
void rec_resumable_bytes_delete(void **state);
void rec_concurrency(void **state);

// The hosts-and-access cases (store_conformance_access.c).
void access_meeting_fields(void **state);
void access_set_mode(void **state);
void access_spaces(void **state);
void access_space_meetings(void **state);
// SQLite only: a meetings table from before issue 11 is migrated.
void sqlite_access_old_file(void **state);

#endif
