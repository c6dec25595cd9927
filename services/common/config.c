// config.c: environment-table configuration with --help.
#include "common/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

static void config_help(const char *prog, const char *summary, const struct hd_config *table, size_t n)
{
	printf("Usage: %s [--help]\n%s\n\nConfigured by environment variables:\n", prog, summary);
	for (size_t i = 0; i < n; i++) {
		const struct hd_config *c = &table[i];
		printf("  %-24s %s\n", c->name, c->help);
		if (c->type == HD_CONFIG_INT)
			printf("  %-24s default %s, range %" PRId64 "..%" PRId64 "\n", "", c->def, c->min, c->max);
		else if (c->type == HD_CONFIG_SECRET)
			printf("  %-24s default (built-in development value)\n", "");
		else if (c->type == HD_CONFIG_OPTIONAL || c->type == HD_CONFIG_OPTIONAL_SECRET)
			printf("  %-24s default %s\n", "", c->def != NULL && *c->def != '\0' ? c->def : "(unset)");
		else if (c->type == HD_CONFIG_URI) {
			char uri[HD_URI_LOG_MAX];
			printf("  %-24s default %s\n", "", hd_uri_redact(c->def, uri, sizeof(uri)));
		} else
			printf("  %-24s default %s\n", "", c->def);
	}
}

static int config_parse_int(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

enum hd_config_result hd_config_load(const char *prog, const char *summary, const struct hd_config *table, size_t n,
				     int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			config_help(prog, summary, table, n);
			return HD_CONFIG_HELP;
		}
		fprintf(stderr, "%s: unknown argument '%s' (settings are environment variables; see --help)\n", prog,
			argv[i]);
		return HD_CONFIG_ERROR;
	}
	for (size_t i = 0; i < n; i++) {
		const struct hd_config *c = &table[i];
		const char *v = getenv(c->name);
		if (v == NULL || *v == '\0')
			v = c->def;
		switch (c->type) {
		case HD_CONFIG_STRING:
		case HD_CONFIG_SECRET:
		case HD_CONFIG_URI:
			if (v == NULL || *v == '\0') {
				fprintf(stderr, "%s: %s must not be empty\n", prog, c->name);
				return HD_CONFIG_ERROR;
			}
			*(const char **)c->field = v;
			break;
		case HD_CONFIG_OPTIONAL:
		case HD_CONFIG_OPTIONAL_SECRET:
			*(const char **)c->field = v != NULL ? v : "";
			break;
		case HD_CONFIG_LOG_LEVEL: {
			int level = hd_log_parse_level(v);
			if (level < 0) {
				fprintf(stderr, "%s: %s='%s' is not error, warn, info or debug\n", prog, c->name, v);
				return HD_CONFIG_ERROR;
			}
			*(int *)c->field = level;
			hd_log_level = level;
			break;
		}
		case HD_CONFIG_INT: {
			int64_t x;
			if (config_parse_int(v, &x) != 0 || x < c->min || x > c->max) {
				fprintf(stderr, "%s: %s='%s' is not an integer in %" PRId64 "..%" PRId64 "\n", prog,
					c->name, v, c->min, c->max);
				return HD_CONFIG_ERROR;
			}
			*(int64_t *)c->field = x;
			break;
		}
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct hd_config *c = &table[i];
		if (c->type == HD_CONFIG_INT)
			HD_INFO("config %s=%" PRId64, c->name, *(int64_t *)c->field);
		else if (c->type == HD_CONFIG_LOG_LEVEL) {
			static const char *const names[] = {"error", "warn", "info", "debug"};
			int level = *(int *)c->field;
			HD_INFO("config %s=%s", c->name, level >= 0 && level <= HD_LOG_DEBUG ? names[level] : "?");
		} else if (c->type == HD_CONFIG_SECRET)
			HD_INFO("config %s=(%s)", c->name,
				strcmp(*(const char **)c->field, c->def) == 0 ? "default" : "set");
		else if (c->type == HD_CONFIG_OPTIONAL_SECRET)
			HD_INFO("config %s=(%s)", c->name, **(const char **)c->field != '\0' ? "set" : "unset");
		else if (c->type == HD_CONFIG_URI) {
			char uri[HD_URI_LOG_MAX];
			HD_INFO("config %s=%s", c->name, hd_uri_redact(*(const char **)c->field, uri, sizeof(uri)));
		} else
			HD_INFO("config %s=%s", c->name, *(const char **)c->field);
	}
	return HD_CONFIG_OK;
}
