/* main.c -- unit_lua, the runner of src/lua's tests: "unit_lua CASE" or
 * "unit_lua". It links ricochet_lua and Lua itself.
 *
 * Each CASE(...) line below becomes a ctest test of its own,
 * unit.lua.CASE (tests/unit/CMakeLists.txt reads them from this file). */
#include "cases.h"
#include "test.h"
#include "unit_main.h"

#define CASE(name) { #name, test_##name }

static const test_case cases[] = {
    CASE(lpattern_differential),
    CASE(lpattern_generated),
    CASE(lpattern_budget_stops),
    CASE(lpattern_budget_generous),
    CASE(lpattern_install),
    CASE(lcase_matches_stock),
    CASE(lalloc_cap),
    CASE(lalloc_cache),
    CASE(lalloc_state),
    CASE(lalloc_shrink_refused),
    CASE(lalloc_counts_big_blocks),
    CASE(lcharge_matches_stock),
    CASE(lcharge_stops),
    CASE(lcharge_table_create),
    CASE(lcharge_time_limit),
    CASE(lcharge_time_excluded),
    CASE(ladmin_args),
    CASE(ladmin_args_no_hook),
    CASE(policy_lua_release_shape),
    CASE(conn_object_fields),
    CASE(conn_object_forged),
    CASE(conn_object_stale),
    CASE(input_lines_held),
    CASE(input_max),
    CASE(input_stale_and_switch),
    CASE(input_line_pattern),
    CASE(input_take_delimiter),
    CASE(input_counted),
    CASE(input_counted_count),
    CASE(input_counted_small_max),
    CASE(input_counted_waits_and_refuses),
    CASE(input_counted_args),
    CASE(input_methods_misused),
    CASE(input_every_cut),
    CASE(input_counted_every_cut),
    CASE(input_line_pattern_budget),
    CASE(input_counted_budget),
    CASE(input_counted_budget_scan),
    CASE(input_method_of_another_table),
    CASE(policy_replies),
    CASE(policy_actions),
    CASE(policy_bad_results),
    CASE(policy_bad_action_sends_nothing),
    CASE(policy_on_connect),
    CASE(policy_on_done),
    CASE(policy_on_done_default),
    CASE(policy_on_close_reasons),
    CASE(policy_on_timeout),
    CASE(policy_after),
    CASE(policy_budget),
    CASE(policy_memory),
    CASE(policy_hook_errors),
    CASE(policy_stats),
    CASE(batch_hooks_raise),
    CASE(proxy_api_choose),
    CASE(proxy_api_default),
    CASE(proxy_api_rules),
    CASE(proxy_api_directions),
    CASE(proxy_api_object),
    CASE(proxy_api_shaping),
    CASE(proxy_api_refused),
    CASE(proxy_api_answer_close),
    CASE(proxy_api_mixed),
    CASE(read_size_by_hook),
    { NULL, NULL }
};

int main(int argc, char **argv)
{
    return unit_main(cases, argc, argv);
}
