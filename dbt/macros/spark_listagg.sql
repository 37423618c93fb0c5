{#- dbt-spark's `listagg` ignores `order_by_clause` (and slices before sorting), so
    `fct_system_drift.example_skus` would list arbitrary keys on Spark. This root-project
    variant wins dispatch on Spark: it sorts (key, value) structs, then limits, then joins,
    which is what `string_agg(... order by ...)` with a limit does on DuckDB. Supports one
    sort key with an optional asc/desc, which is all the models use. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set parsed = modules.re.match('(?is)^\\s*order\\s+by\\s+(.+?)(?:\\s+(asc|desc))?\\s*$', order_by_clause) -%}
        {%- if parsed is none or ',' in parsed.group(1) -%}
            {{ exceptions.raise_compiler_error("listagg on Spark supports 'order by <expr> [asc|desc]', got: " ~ order_by_clause) }}
        {%- endif -%}
        {%- set sorted -%}
            transform(array_sort(collect_list(struct({{ parsed.group(1) }} as sort_key, {{ measure }} as value))), entry -> entry.value)
        {%- endset -%}
        {%- if (parsed.group(2) or '') | lower == 'desc' -%}
            {%- set sorted = 'reverse(' ~ sorted ~ ')' -%}
        {%- endif -%}
    {%- else -%}
        {%- set sorted = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set sorted = 'slice(' ~ sorted ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    array_join({{ sorted }}, {{ delimiter_text }})
{%- endmacro %}
