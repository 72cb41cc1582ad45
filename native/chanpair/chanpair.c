/*
 * hako-chanpair.node: the one system call `create` needs from node and node lacks, the
 * AF_UNIX SOCK_SEQPACKET socketpair to the executor. koffi can make it too, but loading koffi
 * (a 2 MB addon, then libc through it) costs 4-7 ms at every create and exec; this addon loads
 * in a fraction of a millisecond. src/linux/chanpair.ts falls back to koffi without it.
 *
 * Node-API is a stable C ABI, so the few functions used are declared here rather than taken from
 * node's headers (which a host may not have): no build dependency beyond a C compiler.
 *
 *   seqpacketPair() -> [fd, fd]   both close-on-exec; on failure -> -errno (a number)
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok == 0 */
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);

extern napi_status napi_create_function(napi_env env, const char *utf8name, size_t length, napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *utf8name, napi_value value);
extern napi_status napi_create_array_with_length(napi_env env, size_t length, napi_value *result);
extern napi_status napi_set_element(napi_env env, napi_value object, uint32_t index, napi_value value);
extern napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result);

static napi_value seqpacket_pair(napi_env env, napi_callback_info info)
{
	(void)info;
	int sv[2];
	napi_value result, a, b;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		napi_create_int32(env, -errno, &result);
		return result;
	}
	napi_create_array_with_length(env, 2, &result);
	napi_create_int32(env, sv[0], &a);
	napi_create_int32(env, sv[1], &b);
	napi_set_element(env, result, 0, a);
	napi_set_element(env, result, 1, b);
	return result;
}

/* Node-API's entry point (what NAPI_MODULE_INIT expands to). */
__attribute__((visibility("default"))) napi_value napi_register_module_v1(napi_env env, napi_value exports)
{
	napi_value fn;
	if (napi_create_function(env, "seqpacketPair", (size_t)-1, seqpacket_pair, NULL, &fn) == 0)
		napi_set_named_property(env, exports, "seqpacketPair", fn);
	return exports;
}

/* The Node-API version this needs (1: every function above is in the first one). */
__attribute__((visibility("default"))) int32_t node_api_module_get_api_version_v1(void)
{
	return 1;
}
