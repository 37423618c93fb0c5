{#- Inventory semantics shared by several models. -#}

{#- The probable cause of an out-of-tolerance variance row (columns of
    int_current_variances_evaluated), first match wins; null within tolerance. The order is
    the contract (tested in fct_variance.yml): evidence of a specific mechanism beats the
    direction-based fallbacks oversell_risk and sync_lag_breach. -#}
{% macro variance_probable_cause() -%}
    case
        when within_tolerance is distinct from false then null
        when source_records > 1 then 'duplicate_record'
        when is_listing and not is_listed then 'missing_listing'
        -- the channel's last move copied the master's last on-hand move (same units, at or
        -- after it) and landed on the on-hand while units are committed: a relist or a
        -- channel that stopped updating can equal the on-hand too, but never moves like it
        when is_listing
            and master_on_hand > master_available
            and observed_qty = greatest(0, master_on_hand - channel_buffer)
            and last_observed_change_units = last_on_hand_change_units
            and last_observed_change_at >= last_on_hand_change_at
            then 'on_hand_pushed_as_available'
        when direction = 'overstated'
            and last_observed_change_units > 0
            and last_observed_change_at > last_master_change_at
            then 'unexplained_increase'
        when is_listing and last_observed_change_at > last_master_change_at
            then 'channel_edited_directly'
        when is_listing and direction = 'overstated' then 'oversell_risk'
        else 'sync_lag_breach'
    end
{%- endmacro %}

{#- Causes that say "this system did not follow the master" and so, many at once, are
    evidence of a stopped sync; the specific mechanisms above are not. -#}
{% macro is_sync_evidence_cause(cause) -%}
    {{ cause }} in ('oversell_risk', 'sync_lag_breach')
{%- endmacro %}
