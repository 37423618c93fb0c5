{#- Rows where a count-like column is below 1 (e.g. a bundle needing 0 units of a component). -#}
{% test at_least_one(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} < 1

{% endtest %}
