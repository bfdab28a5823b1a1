/* cases.h -- the black-box cases, one per line. CMake reads the X(...)
 * lines to register each case with ctest as "it.<name>"; main.c builds
 * the case table and the prototypes from the same list. */
#ifndef RICOCHET_IT_CASES_H
#define RICOCHET_IT_CASES_H

#define IT_CASES(X) \
    X(echo_0b) \
    X(workers_spread) \
    X(workers_thread_fails) \
    X(echo_1b) \
    X(echo_64k) \
    X(echo_16m) \
    X(echo_fin_after_queue) \
    X(send_after_server_eof) \
    X(binary_echo_c) \
    X(binary_echo_lua) \
    X(upper) \
    X(banner) \
    X(quit) \
    X(goodbye) \
    X(hook_error) \
    X(hook_error_batch) \
    X(send_order) \
    X(conns_1000) \
    X(backpressure_rss) \
    X(reset_mid_stream) \
    X(sigterm_mid_echo) \
    X(sigint_idle) \
    X(signal_twice) \
    X(startup_unknown_option) \
    X(startup_missing_script) \
    X(startup_syntax_error) \
    X(startup_toplevel_error) \
    X(startup_bad_listen) \
    X(startup_bad_values) \
    X(startup_port_in_use) \
    X(startup_port_in_use_by_ricochet) \
    X(check_hooks) \
    X(check_broken) \
    X(help) \
    X(version) \
    X(equals_options) \
    X(ipv6) \
    X(two_listeners) \
    X(conn_fields) \
    X(drain_timeout) \
    X(idle_timeout) \
    X(action_reset) \
    X(action_close) \
    X(method_actions) \
    X(frame_line) \
    X(frame_line_too_big) \
    X(frame_delim) \
    X(frame_length) \
    X(frame_switch) \
    X(shape_rate) \
    X(shape_delay) \
    X(shape_jitter_seed) \
    X(shape_slice) \
    X(shape_slice_seed) \
    X(shape_stall) \
    X(shape_close_after_bytes) \
    X(shape_close_after_ms) \
    X(shape_reset_after) \
    X(shape_fin_after_shaped) \
    X(shape_backpressure) \
    X(lines_script) \
    X(chaos_latency_rate) \
    X(chaos_limit_data) \
    X(chaos_down_blackhole) \
    X(chaos_timeout) \
    X(chaos_reset_peer) \
    X(chaos_slow_close) \
    X(chaos_probability_seed) \
    X(rt_budget_loop) \
    X(rt_budget_nested) \
    X(rt_budget_pcall) \
    X(rt_budget_timer) \
    X(rt_budget_default) \
    X(rt_budget_pattern) \
    X(rt_budget_coroutine_pcall) \
    X(rt_budget_coroutine_toplevel) \
    X(rt_budget_coroutine_split) \
    X(rt_budget_xpcall_handler) \
    X(rt_budget_gc_finalizer) \
    X(rt_isolation_metatables) \
    X(rt_charge_budget) \
    X(rt_charge_rep_default) \
    X(rt_charge_rep_empty) \
    X(rt_hook_timeout) \
    X(rt_hook_timeout_option) \
    X(rt_memory_bomb) \
    X(rt_sandbox) \
    X(rt_sandbox_unsafe) \
    X(rt_require_native_path) \
    X(rt_undefined_global) \
    X(rt_hook_typo) \
    X(rt_api_log) \
    X(rt_api_now) \
    X(rt_api_random) \
    X(rt_api_args) \
    X(rt_reload_keeps_conns) \
    X(rt_reload_20) \
    X(rt_reload_watch) \
    X(rt_reload_runaway_top) \
    X(rt_trace) \
    X(rt_trace_hexdump) \
    X(rt_trace_rst) \
    X(rt_simulate_errors)

#define IT_DECLARE(name) void name(void);
IT_CASES(IT_DECLARE)
#undef IT_DECLARE

#endif
