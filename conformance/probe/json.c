/* JSON writer used by every probe mode. Out-of-memory aborts: the probe is a test tool. */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

static void put(json_t *j, const char *s, size_t n) {
  if (j->len + n + 1 > j->cap) {
    size_t cap = j->cap ? j->cap : 4096;
    while (cap < j->len + n + 1) cap *= 2;
    char *b = realloc(j->buf, cap);
    if (!b) abort();
    j->buf = b;
    j->cap = cap;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
  j->buf[j->len] = '\0';
}

static void putc1(json_t *j, char c) { put(j, &c, 1); }

/* Separator before a value: arrays need commas, object values follow their key. */
static void before_value(json_t *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->depth > 0) {
    if (!j->first[j->depth]) putc1(j, ',');
    j->first[j->depth] = 0;
  }
}

void json_init(json_t *j) {
  memset(j, 0, sizeof(*j));
}

void json_free(json_t *j) {
  free(j->buf);
  json_init(j);
}

void json_reset(json_t *j) {
  j->len = 0;
  if (j->buf) j->buf[0] = '\0';
  j->depth = 0;
  j->after_key = 0;
}

static void push(json_t *j, char c) {
  before_value(j);
  putc1(j, c);
  if (j->depth + 1 >= JSON_MAX_DEPTH) abort();
  j->depth++;
  j->first[j->depth] = 1;
}

static void pop(json_t *j, char c) {
  putc1(j, c);
  if (j->depth > 0) j->depth--;
}

void json_obj_begin(json_t *j) { push(j, '{'); }
void json_obj_end(json_t *j) { pop(j, '}'); }
void json_arr_begin(json_t *j) { push(j, '['); }
void json_arr_end(json_t *j) { pop(j, ']'); }

void json_key(json_t *j, const char *key) {
  if (!j->first[j->depth]) putc1(j, ',');
  j->first[j->depth] = 0;
  j->after_key = 1; /* the key string itself takes no separator */
  json_strn(j, key, strlen(key));
  putc1(j, ':');
  j->after_key = 1;
}

void json_strn(json_t *j, const char *s, size_t n) {
  before_value(j);
  putc1(j, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[8];
    switch (c) {
    case '"': put(j, "\\\"", 2); break;
    case '\\': put(j, "\\\\", 2); break;
    case '\n': put(j, "\\n", 2); break;
    case '\r': put(j, "\\r", 2); break;
    case '\t': put(j, "\\t", 2); break;
    default:
      if (c < 0x20 || c == 0x7f) {
        snprintf(esc, sizeof(esc), "\\u%04x", c);
        put(j, esc, 6);
      } else if (c >= 0x80) {
        /* Not necessarily UTF-8: escape bytes as \u00XX so the output is always valid JSON. */
        snprintf(esc, sizeof(esc), "\\u%04x", c);
        put(j, esc, 6);
      } else {
        putc1(j, (char)c);
      }
    }
  }
  putc1(j, '"');
}

void json_str(json_t *j, const char *s) {
  if (!s) {
    json_null(j);
    return;
  }
  json_strn(j, s, strlen(s));
}

void json_int(json_t *j, long long v) {
  char b[32];
  int n = snprintf(b, sizeof(b), "%lld", v);
  before_value(j);
  put(j, b, (size_t)n);
}

void json_bool(json_t *j, int v) {
  before_value(j);
  if (v) put(j, "true", 4);
  else put(j, "false", 5);
}

void json_null(json_t *j) {
  before_value(j);
  put(j, "null", 4);
}

void json_kstr(json_t *j, const char *key, const char *s) {
  json_key(j, key);
  json_str(j, s);
}

void json_kint(json_t *j, const char *key, long long v) {
  json_key(j, key);
  json_int(j, v);
}

void json_kbool(json_t *j, const char *key, int v) {
  json_key(j, key);
  json_bool(j, v);
}

int json_write_line(json_t *j, int fd) {
  put(j, "\n", 1);
  size_t off = 0;
  while (off < j->len) {
    ssize_t n = write(fd, j->buf + off, j->len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      j->len--;
      return -1;
    }
    off += (size_t)n;
  }
  j->len--;
  j->buf[j->len] = '\0';
  return 0;
}
