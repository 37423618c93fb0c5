{#- Seeds declare `column_types` in the warehouse-neutral spelling `varchar` (DuckDB,
    Postgres, Snowflake); Spark 4 only accepts `varchar(n)` or `string`. These two overrides
    translate the types and hand over to dbt-spark's own seed macros, so seeds load on Spark
    without a per-engine `_seeds.yml`. -#}
{% macro stockdrift_spark_seed_model(model) -%}
    {%- set types = {} -%}
    {%- for name, type in model['config'].get('column_types', {}).items() -%}
        {%- set spelled = type | trim | lower -%}
        {%- do types.update({name: 'string' if spelled in ('varchar', 'text', 'character varying') else type}) -%}
    {%- endfor -%}
    {%- set config = {} -%}
    {%- do config.update(model['config']) -%}
    {%- do config.update({'column_types': types}) -%}
    {%- set patched = {} -%}
    {%- do patched.update(model) -%}
    {%- do patched.update({'config': config}) -%}
    {{ return(patched) }}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) -%}
    {{ return(dbt.spark__create_csv_table(stockdrift_spark_seed_model(model), agate_table)) }}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) -%}
    {{ return(dbt.spark__load_csv_rows(stockdrift_spark_seed_model(model), agate_table)) }}
{%- endmacro %}
