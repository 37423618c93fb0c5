-- The current cycle's variance per non-master system x canonical SKU x location: what the
-- system shows, what it should show given the master, whether the difference is settled
-- (an exception) or still in flight, and why it is probably wrong.
with

current_variances as (

    select * from {{ ref('int_current_variances_evaluated') }}

),

system_drift as (

    select * from {{ ref('fct_system_drift') }}

),

suppressed as (

    select
        current_variances.*,
        coalesce(
            current_variances.base_suppression_reason,
            case when system_drift.sync_stopped then 'sync_stopped' end,
            -- an incident may be forming: hold per-key alerts while it may still form
            -- (fct_system_drift.key_alert_hold_minutes), except a listing about to oversell
            -- its last units (severity 'critical' below): that is paged at once
            case
                when system_drift.key_alert_hold_minutes is not null
                    and current_variances.is_settled
                    and {{ minutes_between('current_variances.drift_since', cycle_at()) }}
                        < system_drift.key_alert_hold_minutes
                    and not coalesce(
                        current_variances.is_listing
                        and current_variances.direction = 'overstated'
                        and current_variances.expected_qty <= 5,
                        false
                    )
                    then 'sync_stop_forming'
            end
        ) as suppression_reason

    from current_variances
    left join system_drift
        on current_variances.system_id = system_drift.system_id
        and current_variances.canonical_location = system_drift.canonical_location

),

explained as (

    select
        *,
        -- first match wins: see macros/semantics.sql (the order is tested in the .yml)
        {{ variance_probable_cause() }} as probable_cause,
        master_on_hand - master_available as master_committed,
        abs_variance_units * unit_cost as value_at_risk,
        coalesce(abs_variance_units * unit_cost, 0)
            * (case when expected_qty <= 5 then 2 else 1 end)
            + abs_variance_units as severity_score

    from suppressed

),

final as (

    select
        cycle_at,
        system_id,
        system_role,
        is_listing,
        canonical_sku,
        canonical_location,
        external_sku,
        external_location,
        source_records,
        is_listed,
        snapshot_id,
        snapshot_cycle_at,
        observed_at,
        observed_qty,
        expected_qty,
        compared_value_kind,
        channel_buffer,
        master_on_hand,
        master_available,
        master_committed,
        master_system_id,
        master_snapshot_id,
        master_observed_at,
        last_master_change_at,
        last_observed_change_at,
        last_observed_change_units,
        variance_units,
        abs_variance_units,
        variance_pct,
        direction,
        tolerance_units,
        tolerance_percent,
        within_tolerance,
        drift_since,
        freshness_target_minutes,
        is_settled,
        suppression_reason is not null as is_suppressed,
        suppression_reason,
        probable_cause,
        case probable_cause
            when 'duplicate_record' then
                'The system returned ' || cast(source_records as {{ dbt.type_string() }})
                || ' records for this SKU and location in one snapshot: look for a duplicated '
                || 'item or listing (same SKU twice) or overlapping export pages, and remove '
                || 'the duplicate.'
            when 'missing_listing' then
                'The master has sellable stock at a location that feeds this channel but the '
                || 'channel has no inventory record for the SKU there: check that the product '
                || 'is published/active and stocked at that location, and the connector''s '
                || 'SKU filter.'
            when 'on_hand_pushed_as_available' then
                'The channel shows the master''s on-hand, not its available (committed and '
                || 'reserved units were not subtracted): check which quantity field the '
                || 'inventory connector pushes for this SKU.'
            when 'unexplained_increase' then
                'The number rose with no receipt, return or master increase: look for a relist '
                || 'or manual edit after an order was in flight (or stock counted in twice), and '
                || 'set it back to the master''s value.'
            when 'channel_edited_directly' then
                'The channel''s quantity changed after the master''s last change without the '
                || 'master changing: check the channel''s inventory history for a manual edit '
                || 'or another app writing stock, and re-push from the master.'
            when 'oversell_risk' then
                'Check whether the listing was edited on the channel or the inventory push '
                || 'for this SKU is failing; lower the listed quantity to the master''s available.'
            when 'sync_lag_breach' then
                case
                    when is_listing then
                        'Check the inventory push from the master to this channel for this SKU '
                        || '(queued, throttled or failed updates); the channel lists fewer units '
                        || 'than the master has available, so sales are being lost.'
                    else
                        'Compare the master''s book on-hand with this holder''s count for the SKU '
                        || 'and location: look for unposted receipts, shipments, returns or '
                        || 'adjustments, then post the missing transaction or recount.'
                end
        end as suggested_check,
        unit_cost,
        value_at_risk,
        case
            when abs_variance_units is null then null
            when within_tolerance then 'low'
            when is_listing and direction = 'overstated' and expected_qty <= 5 then 'critical'
            when severity_score >= 500 then 'high'
            when severity_score >= 50 then 'medium'
            else 'low'
        end as severity,
        severity_score

    from explained

)

select * from final
