"""Drives the demo app (`modeling_avssl.commands.demo`) in headless Chromium as a user would: uploads a video, presses
Classify, and reads the labels the page shows; with `--screenshot`, saves the page. Needs Debian's `chromium` and
`chromium-driver` packages and the `selenium` package.

    python experiments/demo_browser.py VIDEO [--model outputs/avsynth] [--screenshot docs/demo.png]
"""

import argparse
import shutil

import gradio as gr
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from transformers import AutoModelForVideoClassification, AutoProcessor

from modeling_avssl import AVSSLVideoClassificationPipeline
from modeling_avssl.commands.demo import SHIPPED_LOCALIZER, build_demo
from modeling_avssl.localizer.modeling_localizer import AVSSLLocalizer


BROWSER, DRIVER = "chromium", "chromedriver"


def browser_available() -> bool:
    return shutil.which(BROWSER) is not None and shutil.which(DRIVER) is not None


def serve(demo: gr.Blocks) -> str:
    """Starts the app on a free local port in this process; returns its URL."""
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    return url


def classify_in_browser(url: str, video: str, screenshot: str | None = None, timeout: float = 180) -> list[str]:
    """The labels the page shows for `video`, best first, once the map and masks are drawn too."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(BROWSER)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which(DRIVER)), options=options)
    try:
        driver.get(url)
        wait = WebDriverWait(driver, timeout)
        upload = wait.until(lambda page: page.find_element(By.CSS_SELECTOR, "#video input[type=file]"))
        upload.send_keys(video)
        wait.until(lambda page: page.find_elements(By.CSS_SELECTOR, "#video video"))  # the upload is in
        driver.find_element(By.CSS_SELECTOR, "#classify").click()
        wait.until(lambda page: page.find_elements(By.CSS_SELECTOR, "#masks img"))
        labels = [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#labels dt")]
        if screenshot:  # the whole page: grow the window until the page fits in it
            for _ in range(3):
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(1400, height + 120)
            driver.save_screenshot(screenshot)
        return labels
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("video")
    parser.add_argument("--model", default="outputs/avsynth")
    parser.add_argument("--localizer", default=SHIPPED_LOCALIZER)
    parser.add_argument("--screenshot", default=None)
    args = parser.parse_args()
    model = AutoModelForVideoClassification.from_pretrained(args.model, trust_remote_code=True).eval()
    processor = AutoProcessor.from_pretrained(args.model, trust_remote_code=True)
    classify = AVSSLVideoClassificationPipeline(model=model, processor=processor)
    demo = build_demo(classify, AVSSLLocalizer.from_pretrained(args.localizer).eval())
    try:
        print(classify_in_browser(serve(demo), args.video, args.screenshot))
    finally:
        demo.close()


if __name__ == "__main__":
    main()
