// config.c: fuzzes the settings parsers: hd_config_load (common/config.c)
// over a table with every setting type, from environment values taken from
// the input; the URI helpers every daemon runs on its *_URL and STORE_URI
// settings (hd_uri_redact; hd_redis_url_valid, REDIS_URL's parser; the
// scheme check of hd_store_open for a STORE_URI that is neither sqlite://
// nor mongodb://, which would open a file or dial a server); and the
// gateway's ALLOWED_ORIGINS and FRAME_ANCESTORS (gw_websec_open).
// Input: one slice per setting in table order, then one URI slice.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/redis.h"
#include "common/store.h"
#include "common/util.h"
#include "gateway/websec.h"
#include "support/gwfake.h"
#include "support/input.h"

static const char *s_string, *s_secret, *s_uri, *s_optional, *s_optional_secret;
static int64_t s_int, s_wide;
static int s_level;

static const struct hd_config table[] = {
	{"FZ_STRING", HD_CONFIG_STRING, "tcp://127.0.0.1:7001", 0, 0, &s_string, "a string"},
	{"FZ_SECRET", HD_CONFIG_SECRET, "dev-secret", 0, 0, &s_secret, "a secret"},
	{"FZ_URI", HD_CONFIG_URI, "sqlite://run/huddle.db", 0, 0, &s_uri, "a URI"},
	{"FZ_INT", HD_CONFIG_INT, "5000", 100, 60000, &s_int, "an int"},
	{"FZ_WIDE", HD_CONFIG_INT, "268435456", 8388608, 17179869184, &s_wide, "a wide int"},
	{"FZ_LOG_LEVEL", HD_CONFIG_LOG_LEVEL, "info", 0, 0, &s_level, "a level"},
	{"FZ_OPTIONAL", HD_CONFIG_OPTIONAL, "", 0, 0, &s_optional, "optional"},
	{"FZ_OPTIONAL_SECRET", HD_CONFIG_OPTIONAL_SECRET, "", 0, 0, &s_optional_secret, "optional secret"},
};
#define N_TABLE (sizeof(table) / sizeof(table[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_gw_init("/nonexistent");
	gw_websec_close();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	char *values[N_TABLE];
	char *prog[] = {"fuzz-config", NULL};
	fz_init(&in, data, size);
	for (size_t i = 0; i < N_TABLE; i++) {
		uint8_t how = fz_u8(&in);
		values[i] = fz_str(&in);
		if (how & 1)
			unsetenv(table[i].name);
		else
			setenv(table[i].name, values[i], 1);
	}
	enum hd_config_result r = hd_config_load("fuzz-config", "settings", table, N_TABLE, 1, prog);
	hd_log_level = -1;
	if (r == HD_CONFIG_OK) {
		if (s_int < 100 || s_int > 60000 || s_wide < 8388608 || s_wide > 17179869184LL || s_string == NULL ||
		    s_string[0] == '\0' || s_optional == NULL || s_optional_secret == NULL)
			abort(); // loaded outside its bounds
	}
	char *uri = fz_str(&in);
	char shown[HD_URI_LOG_MAX];
	hd_uri_redact(uri, shown, sizeof(shown));
	if (strlen(shown) >= sizeof(shown))
		abort();
	hd_uri_redact(uri, shown, 8); // a short buffer cuts, never overflows
	hd_redis_url_valid(uri);
	if (strncmp(uri, "sqlite://", 9) != 0 && strncmp(uri, "mongodb://", 10) != 0 &&
	    strncmp(uri, "mongodb+srv://", 14) != 0) {
		struct hd_store *st = NULL;
		if (hd_store_open(&st, uri) != HD_EBADREQUEST || st != NULL)
			abort();
	}
	// The gateway's web security settings.
	gw.cfg.allowed_origins = values[0];
	gw.cfg.frame_ancestors = values[6][0] != '\0' ? values[6] : "'none'";
	if (gw_websec_open() == HD_OK)
		gw_websec_close();
	for (size_t i = 0; i < N_TABLE; i++)
		free(values[i]);
	free(uri);
	return 0;
}
