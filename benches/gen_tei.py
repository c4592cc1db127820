#!/usr/bin/env python3
"""Writes a synthetic TEI P5 document of about SIZE bytes to stdout (benchmark input only).

Usage: gen_tei.py SIZE_BYTES

The body repeats letter-like divisions with persons, places, dates, notes, pointers (spanTo,
corresp to xml:ids), verse and editorial markup, so that many tei_all rules have contexts to
match and id() lookups to do. Deterministic: the same size gives the same bytes.
"""
import sys

size = int(sys.argv[1])
head = """<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0">
  <teiHeader>
    <fileDesc>
      <titleStmt><title>Synthetic benchmark edition</title></titleStmt>
      <publicationStmt><p>Generated for teikit benchmarks.</p></publicationStmt>
      <sourceDesc><p>None: synthetic text.</p></sourceDesc>
    </fileDesc>
    <revisionDesc><change when="2026-11-30">generated</change></revisionDesc>
  </teiHeader>
  <text>
    <body>
"""
persons = "".join(
    f'        <person xml:id="p{m}"><persName>Person {m}</persName></person>\n' for m in range(50)
)
places = "".join(
    f'        <place xml:id="pl{m}"><placeName>Place {m}</placeName></place>\n' for m in range(50)
)
orgs = "".join(
    f'        <org xml:id="o{m}"><orgName>Organisation {m}</orgName></org>\n' for m in range(50)
)
tail = (
    "    </body>\n    <back>\n"
    + "      <listPerson>\n" + persons + "      </listPerson>\n"
    + "      <listPlace>\n" + places + "      </listPlace>\n"
    + "      <listOrg>\n" + orgs + "      </listOrg>\n"
    + "    </back>\n  </text>\n</TEI>\n"
)
unit = """      <div type="letter" xml:id="d{i}" n="{i}">
        <opener><dateline><placeName ref="#pl{m}">Belgrade</placeName>, <date when="1954-09-{d:02}">{d} September 1954</date></dateline>
          <salute>Dear <persName ref="#p{m}">Comrade Tito</persName>,</salute></opener>
        <p xml:id="p{i}a">We have <hi rend="italic">received</hi> your letter<note n="{i}" type="editorial" xml:id="n{i}">See the <ref target="#d{j}">previous letter</ref>.</note>
          and discussed it with <persName ref="#p{m}">the comrades</persName> of the <orgName ref="#o{m}">Central Committee</orgName>.
          <addSpan spanTo="#a{i}"/>An added passage <seg type="phrase" subtype="x">with a segment</seg> and a <date from="1954-01-01" to="1954-12-31">year</date>.<anchor xml:id="a{i}"/></p>
        <lg type="stanza"><l n="1">First line of verse</l><l n="2">Second <choice><sic>lnie</sic><corr>line</corr></choice></l></lg>
        <p>Closing remarks with a <ptr target="#n{i}"/> pointer and <span from="#p{i}a">a span</span>.</p>
        <closer><salute>With comradely greetings,</salute><signed><persName ref="#p{m}">N. Khrushchev</persName></signed></closer>
      </div>
"""
out = [head]
total = len(head) + len(tail)
i = 0
while total < size or i < 1:  # at least one letter, however small SIZE
    u = unit.format(i=i, j=max(i - 1, 0), m=i % 50, d=i % 28 + 1)
    out.append(u)
    total += len(u.encode("utf-8"))
    i += 1
out.append(tail)
sys.stdout.write("".join(out))
