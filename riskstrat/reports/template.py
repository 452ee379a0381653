"""The report's HTML template: self-contained, printable (A4, running title, page numbers),
accessible (inline CSS and SVG only)."""

TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
@page { size: A4; margin: 18mm 14mm 16mm;
  @top-center { content: "{{ running }}"; font: 8pt Arial, Helvetica, sans-serif;
                color: #4c6272; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
                  font: 8pt Arial, Helvetica, sans-serif; color: #4c6272; } }
@page :first { @top-center { content: none; } }
body { font-family: Arial, Helvetica, sans-serif; color: #1d2b36; margin: 2rem auto;
       max-width: 60rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { border-bottom: 3px solid #005eb8;
     padding-bottom: .2rem; margin-top: 2.2rem; } h3 { margin-top: 1.4rem; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
.meta, .note { color: #4c6272; font-size: .9rem; }
.findings li { margin: .35rem 0; } .findings a { color: #005eb8; }
.notice { background: #eef7ff; border-left: 4px solid #005eb8; padding: .4rem .8rem; }
figure { margin: .8rem 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: .85rem; color: #4c6272; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .5rem 0 1rem; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
thead { display: table-header-group; }
tr, th, td { break-inside: avoid; page-break-inside: avoid; }
th, td { border-bottom: 1px solid #d8dde0; padding: .25rem .45rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f0f4f5; }
tr.subtotal td, tr.subtotal th { font-weight: bold; }
tr.total td, tr.total th { font-weight: bold; background: #f0f4f5; }
.warn { background: #fff9c4; border-left: 4px solid #ffeb3b; padding: .4rem .8rem; }
.keep, table.short { break-inside: avoid; page-break-inside: avoid; }
dl.methods dt { font-weight: bold; margin-top: .5rem; } dl.methods dd { margin-left: 0; }
@media print { body { margin: 0; max-width: none; font-size: 9pt; line-height: 1.3; }
               h1 { font-size: 16pt; } h2 { margin-top: 1rem; font-size: 13pt; }
               h3 { margin-top: .8rem; font-size: 11pt; }
               table { font-size: 7.5pt; margin: .3rem 0 .6rem; }
               th, td { padding: .1rem .35rem; }
               figure { margin: .4rem 0; } figure svg { width: 78%; } }
</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
<p class="meta">As of {{ as_of }} &middot; {{ task_title }} over the next {{ horizon }} days</p>
</header>
<main>
<section id="{{ findings.id }}" aria-labelledby="{{ findings.id }}-h" class="findings">
<h2 id="{{ findings.id }}-h">{{ findings.title }}</h2>
{% if findings.entries %}<ul>
{% for item in findings.entries %}<li>{{ item.text }}
<a href="{{ item.href }}">{{ item.link }}</a></li>
{% endfor %}</ul>{% else %}<p>{{ findings.empty }}</p>{% endif %}
</section>
<section id="{{ context.id }}" aria-labelledby="{{ context.id }}-h">
<h2 id="{{ context.id }}-h">{{ context.title }}</h2>
{% for n in context.notices %}<p class="notice" role="note"><strong>{{ n }}</strong></p>{% endfor %}
{% for line in context.lines %}<p>{{ line }}</p>{% endfor %}
{% for w in context.warnings %}<p class="warn" role="note">{{ w }}</p>{% endfor %}
</section>
{% for section in sections %}
<section id="{{ section.id }}" aria-labelledby="{{ section.id }}-h">
<h2 id="{{ section.id }}-h">{{ loop.index }}. {{ section.title }}</h2>
{% for para in section.notes %}<p class="note">{{ para }}</p>{% endfor %}
{% for w in section.warnings %}<p class="warn" role="note">{{ w }}</p>{% endfor %}
{% for block in section.blocks %}
<div id="{{ block.get('id', '') }}">
{% if block.get('heading') %}<h3>{{ block.heading }}</h3>{% endif %}
{% if block.get('text') %}<p>{{ block.text }}</p>{% endif %}
{% if block.get('chart') %}<figure>{{ block.chart | safe }}
<figcaption>{{ block.caption }} The table below holds the same figures.</figcaption></figure>
{% endif %}
{% if block.get('table') %}
<table{% if block.table.rows | length <= 16 %} class="short"{% endif %}>
<caption>{{ block.table.caption }}</caption>
<thead><tr>{% for h in block.table.headers %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in block.table.rows %}<tr class="{{ row.kind }}">
<th scope="row">{{ row.cells[0] }}</th>{% for c in row.cells[1:] %}<td>{{ c }}</td>{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
{% endif %}
</div>
{% endfor %}
</section>
{% endfor %}
<section id="{{ methods.id }}" aria-labelledby="{{ methods.id }}-h">
<h2 id="{{ methods.id }}-h">Appendix: {{ methods.title }}</h2>
<dl class="methods">
{% for name, text in methods.entries %}<div class="keep"><dt>{{ name }}</dt>
<dd>{{ text }}</dd></div>
{% endfor %}</dl>
</section>
</main>
<footer><p class="meta">Aggregates only: no patient-level data. Generated by riskstrat.
Figures in aggregates.csv (data dictionary: aggregates.md); data and model checks in
warnings.csv.</p></footer>
</body>
</html>
"""
