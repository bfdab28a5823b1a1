/* main.c -- unit_core, the runner of src/core's tests: "unit_core CASE"
 * or "unit_core". It links ricochet_core (and so ricochet_os), not Lua.
 *
 * Each CASE(...) line below becomes a ctest test of its own,
 * unit.core.CASE (tests/unit/CMakeLists.txt reads them from this file). */
#include "cases.h"
#include "net.h"
#include "test.h"

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
    CASE(conn_open_data),
    CASE(conn_ids),
    CASE(conn_echo_fast_path),
    CASE(conn_echo_after_shutdown),
    CASE(conn_open_peer_fin),
    CASE(conn_open_peer_fin_default),
    CASE(conn_open_peer_reset),
    CASE(conn_open_owner_shutdown),
    CASE(conn_open_owner_close),
    CASE(conn_open_owner_reset),
    CASE(conn_client_done_events),
    CASE(conn_done_shuts_down),
    CASE(conn_feed_nothing),
    CASE(conn_transport_refuses),
    CASE(conn_feed_writable),
    CASE(conn_feed_writable_finishes),
    CASE(conn_shutting_events),
    CASE(conn_closing_events),
    CASE(conn_drain_write_later),
    CASE(conn_drain_shaped),
    CASE(conn_idle_timeout),
    CASE(conn_no_idle_timeout),
    CASE(conn_drain_timeout),
    CASE(conn_half_closed_events),
    CASE(conn_stop_deadline),
    CASE(conn_stop_deadline_vs_idle),
    CASE(conn_tick_frees_once),
    CASE(conn_tick_rounds),
    CASE(conn_send_error),
    CASE(conn_table_free_stops),
    CASE(conn_note),
    CASE(conn_names),
    CASE(conn_frame_lines),
    CASE(conn_frame_switch),
    CASE(conn_frame_too_big),
    CASE(conn_backpressure),
    CASE(conn_drain_socket),
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
