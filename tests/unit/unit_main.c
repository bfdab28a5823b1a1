/* unit_main.c -- the unit runner: "unit_tests CASE" or "unit_tests".
 *
 * Each CASE(...) line below becomes a ctest test of its own
 * (tests/unit/CMakeLists.txt reads them from this file). */
#include "net.h"
#include "test.h"
#include "unit_cases.h"

#define CASE(name) { #name, test_##name }

static const test_case cases[] = {
    CASE(buf_append_consume),
    CASE(buf_growth),
    CASE(buf_compaction),
    CASE(buf_empty_frees),
    CASE(timerq_order),
    CASE(timerq_ties),
    CASE(timerq_stop_middle),
    CASE(timerq_restart_from_callback),
    CASE(timerq_late_start_waits),
    CASE(timerq_random_10k),
    CASE(addr_good),
    CASE(addr_bad),
    CASE(addr_small_buffer),
    CASE(log_levels),
    CASE(log_long_line),
    CASE(loop_timers),
    CASE(loop_timer_no_spin),
    CASE(loop_max_wait),
    CASE(loop_io_wakeup),
    CASE(loop_io_interest),
    CASE(loop_hook_first),
    CASE(loop_io_stop_other),
    CASE(net_listen_name),
    CASE(net_listen_dual_stack),
    CASE(net_listen_in_use),
    CASE(net_listen_bad),
    CASE(net_pair_half_close),
    CASE(err_strerror),
    CASE(signals_take),
    CASE(frame_raw),
    CASE(frame_line),
    CASE(frame_line_max),
    CASE(frame_delim),
    CASE(frame_delim_max),
    CASE(frame_delim_random),
    CASE(frame_fixed),
    CASE(frame_length),
    CASE(frame_length_bad),
    CASE(frame_length_formats),
    CASE(frame_mode_switch),
    CASE(frame_switch_held),
    CASE(shape_passthrough),
    CASE(shape_rate),
    CASE(shape_rate_no_burst_after_idle),
    CASE(shape_delay),
    CASE(shape_jitter),
    CASE(shape_slice),
    CASE(shape_limit_stall),
    CASE(rng_seeded),
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
    { NULL, NULL }
};

int main(int argc, char **argv)
{
    int err = net_init();
    if (err < 0) {
        fprintf(stderr, "net_init: %s\n", err_strerror(err));
        return 1;
    }
    int rc = test_main(cases, argc, argv);
    net_cleanup();
    return rc;
}
