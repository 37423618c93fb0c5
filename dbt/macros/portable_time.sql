{#- Local time, calendars and posting windows, per dialect. Warehouse timestamps are naive
    UTC; a location's business day, cut-off or nightly batch is in its own IANA time zone
    (config `locations[].timezone`), so DST nights move the UTC instant, not the local one. -#}

{#- A naive UTC timestamp as naive local wall-clock time in `tz` (an IANA name expression). -#}
{% macro utc_to_local(expression, tz) -%}
    {{ return(adapter.dispatch('utc_to_local', 'stockdrift')(expression, tz)) }}
{%- endmacro %}

{% macro default__utc_to_local(expression, tz) -%}
    cast(({{ expression }} at time zone 'UTC') at time zone {{ tz }} as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__utc_to_local(expression, tz) -%}
    cast(timezone({{ tz }}, timezone('UTC', cast({{ expression }} as timestamp))) as timestamp)
{%- endmacro %}

{% macro spark__utc_to_local(expression, tz) -%}
    from_utc_timestamp(cast({{ expression }} as timestamp), {{ tz }})
{%- endmacro %}

{#- Naive local wall-clock time in `tz` as naive UTC. A wall time that does not exist (the
    hour skipped on a spring-forward night) resolves to the instant one hour later on the
    new offset (02:30 on 2025-03-09 in New York = 07:30 UTC = 03:30 EDT): a batch
    scheduled at 02:00 runs at 03:00 local that night. -#}
{% macro local_to_utc(expression, tz) -%}
    {{ return(adapter.dispatch('local_to_utc', 'stockdrift')(expression, tz)) }}
{%- endmacro %}

{% macro default__local_to_utc(expression, tz) -%}
    cast(({{ expression }} at time zone {{ tz }}) at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__local_to_utc(expression, tz) -%}
    cast(timezone('UTC', timezone({{ tz }}, cast({{ expression }} as timestamp))) as timestamp)
{%- endmacro %}

{% macro spark__local_to_utc(expression, tz) -%}
    to_utc_timestamp(cast({{ expression }} as timestamp), {{ tz }})
{%- endmacro %}

{#- ISO day of week of a date: 1 = Monday ... 7 = Sunday. -#}
{% macro iso_day_of_week(expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'stockdrift')(expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(expression) -%}
    cast(extract(isodow from {{ expression }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro duckdb__iso_day_of_week(expression) -%}
    isodow({{ expression }})
{%- endmacro %}

{% macro spark__iso_day_of_week(expression) -%}
    (((dayofweek({{ expression }}) + 5) % 7) + 1)
{%- endmacro %}

{#- The first time a daily posting batch at local time `posting_time` ('HH:MM', text) runs
    strictly after `since` (naive UTC), in time zone `tz`, as naive UTC. Null when the
    location has no batch (`posting_time` null: transactions post continuously). -#}
{% macro next_posting_at(since, tz, posting_time) -%}
    {%- set local_since = utc_to_local(since, tz) -%}
    {%- set local_midnight = 'cast(cast(' ~ local_since ~ ' as date) as ' ~ dbt.type_timestamp() ~ ')' -%}
    {%- set posting_minute = '(60 * cast(substring(' ~ posting_time ~ ', 1, 2) as ' ~ dbt.type_int()
        ~ ') + cast(substring(' ~ posting_time ~ ', 4, 2) as ' ~ dbt.type_int() ~ '))' -%}
    {%- set same_day = dbt.dateadd('minute', posting_minute, local_midnight) -%}
    {%- set local_batch = dbt.dateadd('minute',
        '(' ~ posting_minute ~ ' + case when ' ~ same_day ~ ' <= ' ~ local_since
        ~ ' then 1440 else 0 end)', local_midnight) -%}
    case when {{ posting_time }} is not null and {{ since }} is not null
        then {{ local_to_utc(local_batch, tz) }}
    end
{%- endmacro %}

{#- True once a physical difference that started at `since` has outlived the location's
    posting batch: the first batch after `since` has run and the master has had
    `master_target_minutes` to show it. Always true without a batch. Use it as an extra
    `and` on is_settled for physical holders (the hook in docs/SEMANTICS.md). -#}
{% macro posting_window_passed(since, at, tz, posting_time, master_target_minutes) -%}
    (
        {{ posting_time }} is null
        or {{ since }} is null
        or {{ at }} >= {{ dbt.dateadd('minute', master_target_minutes,
                                      next_posting_at(since, tz, posting_time)) }}
    )
{%- endmacro %}
