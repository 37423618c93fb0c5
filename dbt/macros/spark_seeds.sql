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

{#- dbt-spark's own spark__load_csv_rows (dbt/include/spark/macros/materializations/seed.sql),
    with one fix: its session cursor wraps a text binding in '...' without escaping
    (`SessionConnectionWrapper._fix_binding`), so a value such as "New Year's Day" broke
    the insert. Text is escaped here the way Spark SQL literals escape (backslash; Spark
    reads two adjacent quotes as two literals, not as an escaped quote). And a second: the
    same cursor binds an empty cell (None) as the text 'None', so a blank optional value
    became the string 'None' on Spark but null on DuckDB; empty cells are written as a
    typed null literal and get no binding. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set model = stockdrift_spark_seed_model(model) -%}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set bindings = [] -%}
        {%- for row in chunk -%}
            {%- for value in row -%}
                {%- if value is none -%}
                    {#- no binding: rendered as a null literal below -#}
                {%- elif value is string -%}
                    {%- do bindings.append(value.replace('\\', '\\\\').replace("'", "\\'")) -%}
                {%- else -%}
                    {%- do bindings.append(value) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    cast({{ 'null' if row[loop.index0] is none else get_binding_char() }} as {{ type }})
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, bindings=bindings, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{%- endmacro %}
