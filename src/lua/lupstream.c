/* lupstream.c -- a proxied pair's upstream as the script sees it:
 * conn:connect, which chooses it, and conn.upstream, the object for its
 * side; and the "HOST:PORT" addresses both take (lupstream.h). */
#include "lupstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "err.h"
#include "lconn_int.h"

int lupstream_parse(const char *spec, char *host, size_t hostlen, int *port,
                    char *err, size_t errlen)
{
    const char *colon = strrchr(spec, ':');
    /* addr_parse takes "PORT" and ":PORT" for a listener; a peer is
     * always named in full */
    if (colon == NULL || colon == spec) {
        snprintf(err, errlen, "'%s': expected HOST:PORT", spec);
        return ERR_EINVAL;
    }
    char *end;
    long value = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || value < 1 ||
        value > 65535) {
        snprintf(err, errlen, "'%s': the port must be from 1 to 65535",
                 spec);
        return ERR_EINVAL;
    }
    if (addr_parse(spec, host, hostlen, port, err, errlen) == 0)
        return 0;
    /* NAME:PORT: letters, digits, '-', '.', '_' */
    size_t name_len = (size_t)(colon - spec);
    int is_name = spec[0] != '[' && name_len < hostlen;
    for (size_t i = 0; is_name && i < name_len; i++)
        is_name = (spec[i] >= 'a' && spec[i] <= 'z') ||
                  (spec[i] >= 'A' && spec[i] <= 'Z') ||
                  (spec[i] >= '0' && spec[i] <= '9') || spec[i] == '-' ||
                  spec[i] == '.' || spec[i] == '_';
    if (!is_name)
        return ERR_EINVAL; /* addr_parse's reason is in err */
    memcpy(host, spec, name_len);
    host[name_len] = '\0';
    *port = (int)value;
    return 1;
}

void lupstream_format(char *out, size_t outlen, const char *host, int port)
{
    int v6 = strchr(host, ':') != NULL;
    snprintf(out, outlen, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "",
             port);
}

/* conn:connect(spec): choose this connection's upstream, from on_connect
 * only (the choice is made before any byte is relayed). spec is
 * "ADDR:PORT" or "[ADDR]:PORT" (a name must have been resolved at load,
 * with ricochet.resolve: a hook never waits for the resolver); nil (or
 * nothing): the --upstream one, now; false: none, the connection stays
 * an echo. The connect starts at once: conn.upstream exists from then
 * on, and can be framed and shaped in the same on_connect. */
int lconn_connect_method(lua_State *L)
{
    const lconn_env *env = lua_touserdata(L, lua_upvalueindex(1));
    lobj *o;
    lconn *lc = lconn_check(L, 1, &o);
    char host[ADDR_HOST_MAX], err[160];
    int port = 0;
    if (o->upstream)
        return luaL_error(L, "conn.upstream:connect: only the client's "
                          "conn chooses its upstream (conn:connect)");
    if (!lc->choosing)
        return luaL_error(L, "conn:connect may be called only from its "
                          "connection's on_connect (the upstream is chosen "
                          "before any byte is relayed)");
    if (lc->chose)
        return luaL_error(L, "conn:connect: connection %I has chosen its "
                          "upstream already", o->id);
    int type = lua_type(L, 2);
    if (type == LUA_TBOOLEAN && !lua_toboolean(L, 2)) {
        lc->chose = 1; /* no upstream: an echo, even under --upstream */
        return 0;
    }
    if (type == LUA_TSTRING) {
        const char *spec = lua_tostring(L, 2);
        int rc = lupstream_parse(spec, host, sizeof host, &port, err,
                                 sizeof err);
        if (rc == 1)
            return luaL_error(L, "conn:connect: '%s' names a host: resolve "
                              "it when the script loads (at its top level: "
                              "local up = ricochet.resolve(\"%s\")), then "
                              "conn:connect(up)", spec, spec);
        if (rc != 0)
            return luaL_error(L, "conn:connect: %s", err);
    } else if (type != LUA_TNONE && type != LUA_TNIL) {
        return luaL_error(L, "conn:connect: expected \"HOST:PORT\", nil "
                          "(the --upstream) or false (none), got a %s",
                          luaL_typename(L, 2));
    }
    if (env->connect(lc, port ? host : NULL, port) != 0)
        return luaL_error(L, "conn:connect(): there is no --upstream to "
                          "connect to (give \"HOST:PORT\")");
    lc->chose = 1;
    return 0;
}

void lconn_push_upstream(lua_State *L, lconn *lc)
{
    if (lc->up_obj_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lc->up_obj_ref); /* up */
        return;
    }
    if (lc->up_id == 0) {
        lua_pushnil(L);                                    /* nil */
        return;
    }
    lconn_new_object(L, lc, (lua_Integer)lc->up_id, 1, &lc->up_obj_ref);
}

void lconn_detach_upstream(lconn *lc)
{
    lconn_drop_object(lc->L, &lc->up_obj_ref);
}
