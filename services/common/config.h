// config.h: a daemon's settings as one table of environment variables,
// read once in main (the model is redis config.c's static_configs[]).
#ifndef HD_CONFIG_H
#define HD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum hd_config_type {
	HD_CONFIG_STRING,          // field is const char **; value must be non-empty
	HD_CONFIG_SECRET,          // like STRING, but never printed: logged as "(set)"
	HD_CONFIG_URI,             // like STRING, printed with credentials redacted (hd_uri_redact)
	HD_CONFIG_INT,             // field is int64_t *; value within [min, max]
	HD_CONFIG_LOG_LEVEL,       // field is int * (enum hd_log_level); also sets hd_log_level
	HD_CONFIG_OPTIONAL,        // like STRING, but may be unset: then "" (def is "")
	HD_CONFIG_OPTIONAL_SECRET, // OPTIONAL, logged as "(set)" or "(unset)", never printed
};

// hd_config is one setting: environment variable, default, bounds, target.
struct hd_config {
	const char *name;
	enum hd_config_type type;
	const char *def;  // default, as it would be written in the environment
	int64_t min, max; // bounds for HD_CONFIG_INT (inclusive)
	void *field;
	const char *help;
};

enum hd_config_result {
	HD_CONFIG_OK = 0,    // every field set; effective values logged
	HD_CONFIG_HELP = 1,  // --help or -h printed the table; exit 0
	HD_CONFIG_ERROR = 2, // a bad value or argument, reported on stderr; exit 2
};

// hd_config_exit_status maps a result other than HD_CONFIG_OK to the exit
// status main returns: 0 after --help, 2 after a bad setting.
#define hd_config_exit_status(r) ((r) == HD_CONFIG_HELP ? 0 : 2)

// hd_config_load sets every field from its environment variable or default,
// validating type and bounds. argv may hold only --help/-h; anything else is
// an error. String fields point into the environment or the table (static
// lifetime); nothing is allocated.
enum hd_config_result hd_config_load(const char *prog, const char *summary, const struct hd_config *table, size_t n,
				     int argc, char **argv);

#endif
