class TriggerRule:
    ALL_SUCCESS = "all_success"
    ONE_FAILED = "one_failed"
    ALL_DONE = "all_done"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
