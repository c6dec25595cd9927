// log.h: one line per event to stderr, filtered by level before the
// arguments are evaluated.
#ifndef HD_LOG_H
#define HD_LOG_H

enum hd_log_level { HD_LOG_ERROR = 0, HD_LOG_WARN = 1, HD_LOG_INFO = 2, HD_LOG_DEBUG = 3 };

extern int hd_log_level; // current threshold; set once in main

// hd_log_parse_level maps "error|warn|info|debug" to a level; -1 if unknown.
int hd_log_parse_level(const char *name);

// hd_log_set_name sets the program name printed on every line (static string).
void hd_log_set_name(const char *name);

// hd_log_write prints one line "<iso time> <name> <LEVEL> <message>" to
// stderr atomically. Prefer HD_LOG, which skips formatting below the level.
void hd_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define HD_LOG(level, ...)                                                                                             \
	do {                                                                                                           \
		if ((level) <= hd_log_level)                                                                           \
			hd_log_write((level), __VA_ARGS__);                                                            \
	} while (0)

#define HD_ERROR(...) HD_LOG(HD_LOG_ERROR, __VA_ARGS__)
#define HD_WARN(...) HD_LOG(HD_LOG_WARN, __VA_ARGS__)
#define HD_INFO(...) HD_LOG(HD_LOG_INFO, __VA_ARGS__)
#define HD_DEBUG(...) HD_LOG(HD_LOG_DEBUG, __VA_ARGS__)

#endif
