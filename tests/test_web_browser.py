"""The web page in a real headless Chromium (Debian's chromium + chromium-driver, via Selenium).

Loads the page, uploads the example photo (docs/images), clicks happy, moves the strength slider, holds
compare and downloads the result; a screenshot of each step goes to a temp folder (and to
``$PIXELFES_SCREENSHOTS`` when set). Skipped with the reason when Chromium or a web package
is missing.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("fastapi", reason='the web extra is not installed: pip install "pixelfes[web]"')
pytest.importorskip("uvicorn", reason='the web extra is not installed: pip install "pixelfes[web]"')
selenium = pytest.importorskip("selenium", reason="selenium is not installed (it is in the dev extra)")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from pixelfes.web import create_app  # noqa: E402
from web_server import running_server  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                       reason="headless Chromium not installed: apt-get install chromium "
                              "chromium-driver"),
]
EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "images" / "london-001-neutral.jpg"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1200,860"]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path / 'profile'}")  # a fresh profile
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver, downloads
    finally:
        driver.quit()


class Shots:
    """Screenshots of each step: into ``tmp`` and, with $PIXELFES_SCREENSHOTS, there too."""

    def __init__(self, driver: Any, tmp: Path) -> None:
        self.driver = driver
        self.dirs = [tmp]
        if os.environ.get("PIXELFES_SCREENSHOTS"):
            self.dirs.append(Path(os.environ["PIXELFES_SCREENSHOTS"]))
        for d in self.dirs:
            d.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, name: str) -> Path:
        self.n += 1
        png = self.driver.get_screenshot_as_png()
        for d in self.dirs:
            (d / f"{self.n:02d}-{name}.png").write_bytes(png)
        return self.dirs[0] / f"{self.n:02d}-{name}.png"


def _wait(driver: Any, what: str, fn: Any, timeout: float = 30) -> Any:
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: fn(d), message=f"timed out waiting for {what}")


def _updates(driver: Any) -> int:
    return int(driver.execute_script("return Number(document.body.dataset.updates || 0)"))


def test_page_upload_happy_slider_compare_download(browser: tuple[Any, Path], tmp_path: Path) -> None:
    from PIL import Image

    from pixelfes.web.service import PhotoService

    driver, downloads = browser
    shot = Shots(driver, tmp_path / "screenshots")
    with running_server(create_app(workers=2)) as url:
        driver.get(url + "/")
        buttons = _wait(driver, "expression buttons",
                        lambda d: d.find_elements(By.CSS_SELECTOR, "#expressions button"))
        assert "happy" in [b.get_attribute("data-to") for b in buttons]
        aus = driver.find_element(By.ID, "aus")  # action-unit sliders, one per FACS unit
        assert aus.get_attribute("hidden") is None
        assert driver.find_elements(By.CSS_SELECTOR, '#au-sliders input[data-au="12"]')
        shot("page")

        driver.find_element(By.ID, "file").send_keys(str(EXAMPLE))  # a real file upload
        boxes = _wait(driver, "a face box", lambda d: d.find_elements(By.CSS_SELECTOR, ".face"))
        assert len(boxes) == 1
        assert "1 face found (675×675 px)" in driver.find_element(By.ID, "status").text
        shot("faces")

        driver.find_element(By.CSS_SELECTOR, '#expressions button[data-to="happy"]').click()
        _wait(driver, "the happy result", lambda d: _updates(d) >= 1)
        status = driver.find_element(By.ID, "status").text
        assert "happy at strength 1.00 on 1 face" in status, status
        assert driver.find_element(By.ID, "photo").get_attribute("src").startswith("blob:")
        shot("happy")

        slider = driver.find_element(By.ID, "strength")
        before = _updates(driver)
        slider.click()  # the middle of 0..2 = 1.0, as it was
        slider.send_keys(*([Keys.ARROW_LEFT] * 10))  # 10 steps of 0.05: 1.0 -> 0.5
        assert driver.find_element(By.ID, "strength-value").text == "0.50"
        _wait(driver, "the strength 0.50 result",
              lambda d: "strength 0.50" in d.find_element(By.ID, "status").text)
        sent = _updates(driver) - before
        assert 1 <= sent <= 3, f"debounce: {sent} updates for one slider gesture"
        shot("strength-0.5")

        result_src = driver.find_element(By.ID, "photo").get_attribute("src")
        hold = ActionChains(driver).click_and_hold(driver.find_element(By.ID, "compare"))
        hold.perform()
        shown = driver.find_element(By.ID, "photo").get_attribute("src")
        shot("compare-held")
        ActionChains(driver).release().perform()
        assert shown != result_src  # the original while held ...
        assert driver.find_element(By.ID, "photo").get_attribute("src") == result_src  # ... back

        n = _updates(driver)
        driver.find_element(By.CSS_SELECTOR, ".face").click()  # leave the face out ...
        assert "No face selected" in driver.find_element(By.ID, "status").text
        assert driver.find_element(By.ID, "photo").get_attribute("src") == shown  # original
        assert "off" in driver.find_element(By.CSS_SELECTOR, ".face").get_attribute("class")
        shot("face-off")
        driver.find_element(By.CSS_SELECTOR, ".face").click()  # ... and back in
        _wait(driver, "the result again", lambda d: _updates(d) > n)
        assert "strength 0.50 on 1 face" in driver.find_element(By.ID, "status").text

        driver.find_element(By.ID, "download").click()
        target = downloads / f"{EXAMPLE.stem}_happy.jpg"  # the uploaded name + the expression
        deadline = time.monotonic() + 20
        while not target.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        shot("downloaded")
        assert target.is_file(), f"no download; folder has {os.listdir(downloads)}"

        n = _updates(driver)
        src_before = driver.find_element(By.ID, "photo").get_attribute("src")
        brows = driver.find_element(By.ID, "au-1")  # AU 1, inner brow raiser, on top of happy
        driver.execute_script("arguments[0].scrollIntoView()", brows)
        brows.click()
        brows.send_keys(*([Keys.ARROW_RIGHT] * 6))
        _wait(driver, "the result with AU 1", lambda d: _updates(d) > n
              and d.find_element(By.ID, "photo").get_attribute("src") != src_before)
        assert "strength 0.50 on 1 face" in driver.find_element(By.ID, "status").text
        shot("action-unit-1")

    got = target.read_bytes()
    want = PhotoService().synthesize(EXAMPLE.read_bytes(), "happy", 0.5).data
    assert got == want  # full resolution, exactly what the API gives for strength 0.5
    with Image.open(target) as im:
        assert im.size == (675, 675)
        out = np.asarray(im.convert("RGB"), dtype=np.int16)
    with Image.open(EXAMPLE) as im:
        orig = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert np.abs(out - orig).max() > 20  # the face did change


def test_try_the_example_button_and_no_face_message(browser: tuple[Any, Path], tmp_path: Path) -> None:
    driver, _ = browser
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (300, 200), (200, 180, 160)).save(blank)
    with running_server(create_app(workers=1)) as url:
        driver.get(url + "/")
        _wait(driver, "expression buttons",
              lambda d: d.find_elements(By.CSS_SELECTOR, "#expressions button"))
        driver.find_element(By.ID, "example").click()
        _wait(driver, "a face box", lambda d: d.find_elements(By.CSS_SELECTOR, ".face"))
        driver.find_element(By.ID, "file").send_keys(str(blank))
        _wait(driver, "the no-face message",
              lambda d: "No face found" in d.find_element(By.ID, "status").text)
        assert driver.find_elements(By.CSS_SELECTOR, ".face") == []
