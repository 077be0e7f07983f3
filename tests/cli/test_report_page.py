"""The report's HTML page as a person meets it: opened from a file in headless Chromium (Debian's
chromium and chromium-driver; the Makefile installs them), with the network cut off by the page's
own policy: the graph draws, search finds a group, a finding shows in red."""

from __future__ import annotations

import re
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from modelshare.allowlist import Allowlist, actions_for
from modelshare_cli.report.model import ACCEPTED, MODELSHARE, NO_ACCEPTANCE, PERSON, AccountRead, Grant, Report
from modelshare_cli.report.page import as_html

OWNER, CONSUMER, STRANGER = "111122223333", "444455556666", "777788889999"
ALLOWLIST = Allowlist.parse({"version": 1, "shares": [{"owner": OWNER, "groups": ["model-*"], "consumers": [CONSUMER]}]})
DISCOVER = tuple(sorted(a.lower() for a in actions_for(["discover"])))


def organization(groups: int) -> Report:
    """`groups` groups shared by modelshare with CONSUMER, and one a person gave STRANGER."""
    grants = [Grant(OWNER, f"model-{i:04d}", f"arn:aws:sagemaker:eu-west-1:{OWNER}:model-package-group/model-{i:04d}",
                    CONSUMER, "share", "arn:aws:ram:eu-west-1:111122223333:resource-share/s", DISCOVER, ACCEPTED,
                    MODELSHARE) for i in range(groups)]
    grants.append(Grant(OWNER, "model-0003", "arn", STRANGER, "policy", "HandWritten </script><b>x</b>", DISCOVER,
                        NO_ACCEPTANCE, PERSON))
    return Report.of([AccountRead(OWNER, grants, groups, ALLOWLIST)])


@pytest.fixture(scope="module")
def browser():
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert binary and driver, "chromium and chromium-driver are missing: `make test` installs them (apt-get)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    yield chrome
    chrome.quit()


def open_page(browser, tmp_path, report):
    page = tmp_path / "report.html"
    page.write_text(as_html(report))
    browser.get(page.as_uri())
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes")
    return page


def visible_groups(browser):
    return [n.get_attribute("data-name") for n in browser.find_elements(By.CSS_SELECTOR, "svg.graph g.node.group")
            if n.is_displayed()]


def test_the_graph_draws_search_finds_a_group_and_the_finding_shows(browser, tmp_path):
    open_page(browser, tmp_path, organization(40))
    assert len(visible_groups(browser)) == 40
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.graph path.edge")) == 40 + 41  # owner->group, group->consumer
    finding, = browser.find_elements(By.CSS_SELECTOR, "#finding-list li.finding-item")
    assert finding.is_displayed() and STRANGER in finding.text and "made by person" in finding.text
    assert finding.value_of_css_property("color") == "rgba(221, 0, 0, 1)"
    red, = browser.find_elements(By.CSS_SELECTOR, "svg.graph g.node.group.finding")
    assert red.get_attribute("data-name") == "model-0003"
    assert browser.find_elements(By.CSS_SELECTOR, "svg.graph path.edge.finding")
    assert not browser.find_elements(By.TAG_NAME, "b")  # a name holding markup stays text
    browser.find_element(By.ID, "search").send_keys("model-0017")
    assert visible_groups(browser) == ["model-0017"]
    assert browser.find_element(By.CSS_SELECTOR, "svg.graph g.node.group.match").get_attribute("data-name") == "model-0017"
    assert browser.find_element(By.ID, "matches").text == "1 of 40 groups shown"
    browser.save_screenshot(str(tmp_path / "search.png"))


def test_a_thousand_groups_open_collapsed_and_findings_only_narrows_them(browser, tmp_path):
    open_page(browser, tmp_path, organization(1000))
    # Past 200 groups only an owner with a finding opens; its graph draws every group.
    assert len(visible_groups(browser)) == 1000
    browser.find_element(By.ID, "collapse").click()
    assert visible_groups(browser) == []
    browser.find_element(By.ID, "findings-only").click()
    assert visible_groups(browser) == ["model-0003"]


def test_the_page_fetches_nothing(tmp_path):
    text = as_html(organization(3))
    assert "default-src 'none'" in text  # the page's own policy: no request leaves it
    assert not re.search(r"""(src|href)\s*=|url\(|@import|fetch\(|XMLHttpRequest""", text)
