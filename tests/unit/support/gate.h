// gate.h: holds a call under test (a fake store's append, a batch round) at
// a closed gate, so a test can queue work behind it and then let it through.
#ifndef HD_TEST_GATE_H
#define HD_TEST_GATE_H

#include <pthread.h>
#include <stdbool.h>

// hd_test_gate: mtx also guards whatever the test's fake records beside it.
struct hd_test_gate {
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool closed;
	int inside; // calls waiting at the gate
};

// hd_test_gate_init / _fini set up and tear down an open gate.
void hd_test_gate_init(struct hd_test_gate *g);
void hd_test_gate_fini(struct hd_test_gate *g);

// hd_test_gate_set closes the gate, or opens it and wakes the held calls.
void hd_test_gate_set(struct hd_test_gate *g, bool closed);

// hd_test_gate_pass is called by the call under test with g->mtx held: it
// counts itself inside and waits while the gate is closed; g->mtx is held
// again when it returns.
void hd_test_gate_pass(struct hd_test_gate *g);

// hd_test_gate_wait_inside waits at most wait_ms until exactly one call is
// held at the gate; the test fails otherwise.
void hd_test_gate_wait_inside(struct hd_test_gate *g, int wait_ms);

#endif
