/* cases.h -- the cases of unit_lua, one group per module of src/lua. */
#ifndef RICOCHET_UNIT_LUA_CASES_H
#define RICOCHET_UNIT_LUA_CASES_H

void test_lpattern_differential(void);
void test_lpattern_generated(void);
void test_lpattern_budget_stops(void);
void test_lpattern_budget_generous(void);
void test_lpattern_install(void);

void test_lcase_matches_stock(void);

void test_lalloc_cap(void);
void test_lalloc_cache(void);
void test_lalloc_state(void);
void test_lalloc_shrink_refused(void);
void test_lalloc_counts_big_blocks(void);

void test_lcharge_matches_stock(void);
void test_lcharge_stops(void);
void test_lcharge_table_create(void);
void test_lcharge_time_limit(void);
void test_lcharge_time_excluded(void);

void test_policy_replies(void);
void test_policy_actions(void);
void test_policy_bad_results(void);
void test_policy_bad_action_sends_nothing(void);
void test_policy_on_connect(void);
void test_policy_on_done(void);
void test_policy_on_done_default(void);
void test_policy_on_close_reasons(void);
void test_policy_on_timeout(void);
void test_policy_after(void);
void test_policy_budget(void);
void test_policy_memory(void);
void test_policy_hook_errors(void);

void test_batch_hooks_raise(void);

void test_proxy_api_choose(void);
void test_proxy_api_default(void);
void test_proxy_api_rules(void);
void test_proxy_api_directions(void);
void test_proxy_api_object(void);
void test_proxy_api_shaping(void);
void test_proxy_api_refused(void);
void test_proxy_api_answer_close(void);
void test_proxy_api_mixed(void);

void test_policy_stats(void);
void test_ladmin_args(void);
void test_ladmin_args_no_hook(void);

void test_policy_lua_release_shape(void);

void test_conn_object_fields(void);
void test_conn_object_forged(void);
void test_conn_object_stale(void);

void test_input_lines_held(void);
void test_input_max(void);
void test_input_stale_and_switch(void);
void test_input_line_pattern(void);
void test_input_take_delimiter(void);
void test_input_counted(void);
void test_input_counted_count(void);
void test_input_counted_small_max(void);
void test_input_counted_waits_and_refuses(void);
void test_input_counted_args(void);
void test_input_methods_misused(void);
void test_input_every_cut(void);
void test_input_counted_every_cut(void);
void test_input_line_pattern_budget(void);
void test_input_counted_budget(void);
void test_input_counted_budget_scan(void);
void test_input_method_of_another_table(void);
void test_read_size_by_hook(void);

#endif
