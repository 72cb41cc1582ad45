/* A tiny JSON writer for the conformance probe: one growable buffer, commas handled by depth. */
#ifndef PROBE_JSON_H
#define PROBE_JSON_H

#include <stddef.h>

#define JSON_MAX_DEPTH 32

typedef struct {
  char *buf;
  size_t len;
  size_t cap;
  int depth;
  int first[JSON_MAX_DEPTH]; /* no element written yet at this depth */
  int after_key;             /* the next value belongs to a key just written */
} json_t;

void json_init(json_t *j);
void json_free(json_t *j);
void json_reset(json_t *j);
void json_obj_begin(json_t *j);
void json_obj_end(json_t *j);
void json_arr_begin(json_t *j);
void json_arr_end(json_t *j);
void json_key(json_t *j, const char *key);
void json_str(json_t *j, const char *s);
void json_strn(json_t *j, const char *s, size_t n);
void json_int(json_t *j, long long v);
void json_bool(json_t *j, int v);
void json_null(json_t *j);
/* Convenience: key + value. */
void json_kstr(json_t *j, const char *key, const char *s);
void json_kint(json_t *j, const char *key, long long v);
void json_kbool(json_t *j, const char *key, int v);
/* Writes the buffer plus a newline to fd in one go (retrying short writes). */
int json_write_line(json_t *j, int fd);

#endif
