#!/usr/bin/env python3
"""Writes data/ouhai/indicators/tender.json, the sample catalogue of the tender's own
indicators, from the tender's text (../shared/spec/004_215511005aa84c6c.txt):

- the sixteen domains' sub-indicators (L307-L322), each with its domain;
- the four systems' indicator tables (L525-L1186), each with its system; an indicator also
  listed under a domain keeps that domain, the rest get their system's nearest domain by
  words in the name.

Owners, leaders, frequencies, units and targets are not in the tender's lists: they are
generated from the domain and the name, and labelled so (`"generated": [...]`).
Usage: scripts/tender-indicators.py [TENDER_TEXT] > data/ouhai/indicators/tender.json
"""

import json
import re
import sys

SRC = sys.argv[1] if len(sys.argv) > 1 else "../shared/spec/004_215511005aa84c6c.txt"
lines = open(SRC, encoding="utf-8").read().split("\n")

DOMAINS = [
    ("经济运行", "economy", "healthy_economy", "区发改局"),
    ("文化体育", "culture_sports", "livable_city", "区文广旅体局"),
    ("医疗健康", "health", "livable_city", "区卫健局"),
    ("智慧教育", "education", "livable_city", "区教育局"),
    ("交通畅行", "transport", "livable_city", "区交通运输局"),
    ("生态环保", "environment", "livable_city", "生态环境分局"),
    ("民生保障", "livelihood", "livable_city", "区民政局"),
    ("城市建设", "construction", "livable_city", "区住建局"),
    ("矛盾纠纷", "disputes", "safe_society", "区社会治理中心"),
    ("诉讼调解", "litigation", "safe_society", "区司法局"),
    ("信访维稳", "petitions", "safe_society", "区信访局"),
    ("消防安全", "fire_safety", "safe_society", "区消防救援大队"),
    ("食品药品", "food_drugs", "safe_society", "区市场监管局"),
    ("社会治安", "public_security", "safe_society", "公安瓯海分局"),
    ("经济金融", "finance", "safe_society", "区金融办"),
    ("劳动欠薪", "wage_arrears", "safe_society", "区人力社保局"),
]
BY_ZH = {zh: (code, system, dept) for zh, code, system, dept in DOMAINS}
SYSTEMS = {"党政更智治": "smart_governance", "经济更健康": "healthy_economy", "城市更宜居": "livable_city", "社会更安全": "safe_society"}
# Words in a name that place it in a domain, for the systems' tables.
WORDS = [
    ("economy", "产值 生产总值 投资 税收 财政 预算 市场主体 收入 消费 贸易 出口 规上 限上 企业 孵化 项目 产业 债券 技改 用地 供地 批而未供 供而未用 耕地 水田 科会 科技 人才 大学生".split()),
    ("culture_sports", "文化 书房 书屋 电影 景区 非遗 体育 旅游 饭店 驿站".split()),
    ("health", "医 卫生 隔离 密接 观察 健康 药店 孕产妇 红黄码".split()),
    ("education", "教育 学校 教师 幼儿园 学位".split()),
    ("transport", "交通 公路 停车 违停 僵尸车".split()),
    ("environment", "环保 环境 绿道 碧道 古树 农污 绿地 垃圾 空气 水质".split()),
    ("livelihood", "养老 津贴 残疾人 人口 户籍 出生 死亡 迁入 关爱 互助 城镇化".split()),
    ("construction", "城中村 安置 建筑 高层 建安 城市更新 水利 安居码 智安".split()),
    ("disputes", "矛盾 纠纷 调解 办结".split()),
    ("litigation", "诉讼 成讼 成诉 复议 律师 行政争议 ODR".split()),
    ("petitions", "信访 越级访 群体".split()),
    ("fire_safety", "火 消防 安全事故 隐患 出租房安全".split()),
    ("food_drugs", "食品 药品 中毒 传染病 行医".split()),
    ("public_security", "刑事 治安 警 民转刑 走访 非正常死亡".split()),
    ("finance", "诈骗 集资 金融 商事 消费者投诉 税收违法".split()),
    ("wage_arrears", "欠薪 劳动".split()),
]
DEPT = {code: dept for _, code, _, dept in DOMAINS}
DOMAIN_SYSTEM = {code: system for _, code, system, _ in DOMAINS}


def clean(name):
    name = re.sub(r"\s+", "", name).replace("{", "（").replace("}", "）")
    return name.strip("、，。 ")


def split_list(text):
    """The names in a sentence '…主要包括A、B、C等子指标…', keeping 、 inside brackets."""
    body = text.split("主要包括", 1)[1].split("等子指标", 1)[0]
    names, depth, current = [], 0, ""
    for ch in body:
        depth += ch in "（(" and 1 or 0
        depth -= ch in "）)" and 1 or 0
        if ch == "、" and depth == 0:
            names.append(current)
            current = ""
        else:
            current += ch
    names.append(current)
    return [clean(n) for n in names if clean(n)]


def unit_of(name):
    if re.search(r"率|占比|比例|比重|覆盖|增速|增长", name):
        return "%"
    if re.search(r"投资|产值|收入|支出|总值|销售额|零售|增加值|金额|额度|经费", name):
        return "万元"
    if re.search(r"人次|人数|人口|人才|学生", name):
        return "人"
    if re.search(r"里程", name):
        return "公里"
    if re.search(r"面积", name):
        return "平方米"
    return "件" if re.search(r"案|事件|警|访|纠纷|投诉|事故", name) else "个"


def better_of(name, domain):
    bad = r"案|事件|警|访|投诉|事故|死亡|纠纷发生|违停|败诉|中毒|隔离|密接|红黄码|批而未供|供而未用|成诉|成讼|欠薪|诈骗"
    good = r"化解|成功|完成|覆盖|参保|合格|巡查|满意|处置率|发现率|查处|处理数"
    if re.search(good, name):
        return "higher"
    return "lower" if re.search(bad, name) else "higher"


FREQ = {"%": "monthly", "万元": "quarterly"}


def frequency_of(name, unit):
    if re.search(r"警|隔离|密接|观察|红黄码|安居码|违停|流动人口", name):
        return "real_time"
    if re.search(r"户籍人口|出生|死亡注销|迁入|景区|古树|非遗|饭店|学校数|规划数|里程", name):
        return "yearly"
    if re.search(r"人均|生产总值|产业", name):
        return "quarterly"
    return FREQ.get(unit, "monthly")


def slug(i, domain):
    return f"{domain}.{i:03d}"


entries, seen = [], {}


def add(name, definition, domain, system, source):
    if name in seen:
        e = seen[name]
        if source not in e["source"]:
            e["source"] += "; " + source
        return
    unit = unit_of(name)
    better = better_of(name, domain)
    n = sum(1 for e in entries if e["domain"] == domain) + 1
    e = {
        "id": slug(n, domain),
        "name": {"zh": name, "en": ""},
        "definition": definition or name,
        "system": system,
        "domain": domain,
        "unit": unit,
        "better": better,
        "owner": {"department": DEPT[domain], "person": ""},
        "leader": "",
        "frequency": frequency_of(name, unit),
        "target": None,
        "regions": ["330304"],
        "public": unit != "件",
        "keywords": [],
        "published": True,
        "source": source,
    }
    seen[name] = e
    entries.append(e)


for number in range(307, 323):
    text = lines[number - 1]
    zh = text.split("领域", 1)[0]
    domain, system, _ = BY_ZH[zh]
    for name in split_list(text):
        add(name, "", domain, system, f"tender L{number} ({zh}领域)")

SECTIONS = [("党政更智治", 526, 655), ("经济更健康", 656, 837), ("城市更宜居", 838, 1012), ("社会更安全", 1013, 1186)]
for system_zh, first, last in SECTIONS:
    rows = [l.strip() for l in lines[first - 1 : last]]
    i = 0
    while i < len(rows) - 2:
        if re.fullmatch(r"\d+", rows[i]) and rows[i + 1]:
            number = first + i
            name, definition = clean(rows[i + 1]), rows[i + 2].strip()
            domain = next((d for d, words in WORDS if any(w in name for w in words)), None)
            if domain is None:
                domain = {"smart_governance": "economy", "healthy_economy": "economy", "livable_city": "livelihood", "safe_society": "public_security"}[SYSTEMS[system_zh]]
            if name not in seen and "柱形图" not in name:
                add(name, definition if definition != rows[i + 1].strip() else "", domain, SYSTEMS[system_zh], f"tender L{number + 1} ({system_zh})")
            i += 3
        else:
            i += 1

# Sanity: every domain, the four systems, enough indicators.
assert {e["domain"] for e in entries} == set(DEPT), "every domain"
assert len(entries) >= 120, len(entries)
json.dump(
    {
        "source": "温州市瓯海区城市运行和社会治理系统 招标文件 (../shared/spec/004_215511005aa84c6c.txt): the sixteen domains' sub-indicators L307-L322 and the four systems' indicator tables L525-L1186; names and definitions are the tender's",
        "generated": ["id", "name.en (empty: no English in the tender)", "unit", "better", "owner", "frequency", "target", "regions", "public", "published"],
        "indicators": entries,
    },
    sys.stdout,
    ensure_ascii=False,
    indent=1,
)
print()
