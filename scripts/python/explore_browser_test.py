#!/usr/bin/env python3
"""`genlab explore` in a real browser: headless Chromium driven by Selenium.

Starts the explorer on a free port, opens the page, moves a latent slider with the mouse and checks
that the decoded image changes (its pixels, read back from the page) within the latency target;
walks between two training images; opens the Runs tab; then sends 1 000 concurrent requests
from this process and checks that the server still answers. Then a class-conditional VAE (trained on
Fashion-MNIST for a few hundred steps): choosing another class in the page's menu changes the image,
and a training image picked as A sets the menu to its own class. Exits non-zero on any failure.

    scripts/python/explore_browser_test.py --genlab .build/release/genlab [--checkpoint C --data D]
        [--runs DIR] [--screenshots DIR]           (relative paths are from the repository root)

Without --checkpoint it trains a small VAE on Datasets/faces first (about 20 s); the conditional
phase trains its own model (about 15 s; --no-conditional skips it).
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LATENCY_TARGET_MS = 200

# The decoded image's pixels, hashed in the page (the image is a same-origin blob: readable).
PIXEL_HASH = """
const img = document.getElementById('decoded');
if (!img.complete || img.naturalWidth === 0) return null;
const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
const g = c.getContext('2d'); g.drawImage(img, 0, 0);
const d = g.getImageData(0, 0, c.width, c.height).data;
let h = 2166136261;
for (let i = 0; i < d.length; i += 4) { h ^= d[i]; h = Math.imul(h, 16777619) >>> 0; }
return h;
"""


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(flag)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


def wait_for(driver, predicate, what, timeout=20):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.02).until(lambda d: predicate(d))
    except Exception:
        fail("timed out waiting for " + what)


def decodes(driver):
    value = driver.find_element(By.ID, "decoded").get_attribute("data-decodes")
    return int(value) if value else 0


def move_slider_and_measure(driver, slider, offset):
    """Drags `slider` by `offset` px; returns the ms until the driver saw the new image (WebDriver's
    own round trips included), the page's decode round trip, and the page's move → image drawn."""
    before_count, before_hash = decodes(driver), driver.execute_script(PIXEL_HASH)
    driver.execute_script("document.getElementById('shown').textContent = ''")
    started = time.perf_counter()
    ActionChains(driver).click_and_hold(slider).move_by_offset(offset, 0).release().perform()
    wait_for(
        driver,
        lambda d: decodes(d) > before_count and d.execute_script(PIXEL_HASH) not in (None, before_hash),
        "the image to change after a slider move")
    # Let any queued decode finish, then read the page's own round-trip time.
    wait_for(driver, lambda d: d.execute_script("return !inFlight && pending === null"), "decodes to settle")
    wait_for(driver, lambda d: d.find_element(By.ID, "shown").text.isdigit(), "the page's timing of the move")
    driven_ms = (time.perf_counter() - started) * 1000
    latency = int(driver.find_element(By.ID, "latency").text)
    shown = int(driver.find_element(By.ID, "shown").text)
    return driven_ms, latency, shown


def start_explorer(genlab, checkpoint, data, runs):
    """`genlab explore` on a free port; returns the process and the page's URL."""
    command = [genlab, "explore", "--checkpoint", checkpoint, "--data", data, "--port", "0", "--json",
               "--runs", runs]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    line = server.stdout.readline()
    if not line:
        fail("genlab explore printed no address (exit %s)" % server.poll())
    return server, json.loads(line)["url"]


def stop(server):
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


def conditional_phase(args, scratch, driver):
    """A conditional VAE in the page: the class menu chooses what is decoded; a labelled training image
    picked as A sets the menu to its class."""
    run = os.path.join(scratch, "fmnist_cvae")
    subprocess.run(
        [args.genlab, "train", "vae", "--data", "fashion-mnist", "--conditional", "--arch", "mlp", "--epochs", "1",
         "--max-steps", "300", "--batch-size", "64", "--latent-dim", "8", "--quiet", "--seed", "1", "--out", run],
        check=True, cwd=ROOT)
    server, url = start_explorer(
        args.genlab, os.path.join(run, "checkpoint.safetensors"), "fashion-mnist", os.path.join(scratch, "runs"))
    try:
        driver.get(url)
        wait_for(driver, lambda d: decodes(d) >= 1 and d.execute_script(PIXEL_HASH) is not None, "the first image")
        menu = wait_for(driver, lambda d: d.find_elements(By.ID, "class"), "the class menu")[0]
        names = [o.text for o in menu.find_elements(By.TAG_NAME, "option")]
        if len(names) != 10 or names[1] != "Trouser":
            fail("the class menu lists %s, not Fashion-MNIST's ten classes" % names)
        seen = {driver.execute_script(PIXEL_HASH)}
        for index in ("1", "8", "9"):
            before = decodes(driver)
            driver.execute_script(
                "const m = document.getElementById('class'); m.value = arguments[0];"
                "m.dispatchEvent(new Event('change'));", index)
            wait_for(driver, lambda d: decodes(d) > before and d.execute_script(PIXEL_HASH) is not None,
                     "the image of class %s" % names[int(index)])
            wait_for(driver, lambda d: d.execute_script("return !inFlight && pending === null"), "decodes to settle")
            seen.add(driver.execute_script(PIXEL_HASH))
        if len(seen) != 4:
            fail("four classes at the same point gave %d different images" % len(seen))
        # The first training image (an ankle boot, class 9) picked as A: the menu follows its class.
        driver.execute_script(
            "const m = document.getElementById('class'); m.value = '0'; m.dispatchEvent(new Event('change'));")
        wait_for(driver, lambda d: d.execute_script("return !inFlight && pending === null"), "decodes to settle")
        shirt, before = driver.execute_script(PIXEL_HASH), decodes(driver)
        driver.find_elements(By.CSS_SELECTOR, "#gallery img")[0].click()
        wait_for(driver, lambda d: d.find_element(By.ID, "class").get_attribute("value") == "9",
                 "the class menu to follow the picked image's class (Ankle boot)")
        # The image on show follows the menu: decoded again, as an ankle boot.
        wait_for(driver, lambda d: decodes(d) > before and d.execute_script("return !inFlight && pending === null"),
                 "the image to be decoded again for the new class")
        if driver.execute_script(PIXEL_HASH) == shirt:
            fail("the menu says Ankle boot but the image on show is still class 0's")
        print("conditional VAE: %d classes in the menu; the same point drew %d different images for 4 classes; "
              "a picked training image set the class to %s" % (len(names), len(seen), names[9]))
        if args.screenshots:
            driver.save_screenshot(os.path.join(args.screenshots, "explore_conditional.png"))
    finally:
        stop(server)


async def hammer(host, port, paths):
    """One connection per path, all at once, each one GET; returns the status codes (0: no answer)."""
    async def one(path):
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), 60)
            writer.close()
            return int(line.split()[1]) if line.startswith(b"HTTP/1.1") else 0
        except (OSError, asyncio.TimeoutError, ValueError, IndexError):
            return 0
    return await asyncio.gather(*(one(path) for path in paths))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--genlab", default=os.path.join(ROOT, ".build/release/genlab"))
    parser.add_argument("--checkpoint")
    parser.add_argument("--data", default="Datasets/faces", help="relative paths are from the repository root")
    parser.add_argument("--runs")
    parser.add_argument("--screenshots", help="folder for the page's screenshots (PNG)")
    parser.add_argument("--concurrent", type=int, default=1000)
    parser.add_argument("--no-conditional", action="store_true", help="skip the class-conditional model's phase")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="genlab-browser-")
    checkpoint, runs = args.checkpoint, args.runs
    if checkpoint is None:
        run = os.path.join(scratch, "runs", "faces_vae")
        subprocess.run(
            [args.genlab, "train", "vae", "--data", args.data, "--out", run, "--epochs", "30", "--latent-dim", "8",
             "--quiet", "--seed", "1"], check=True, cwd=ROOT)
        checkpoint, runs = os.path.join(run, "checkpoint.safetensors"), runs or os.path.join(scratch, "runs")
    server, url = start_explorer(args.genlab, checkpoint, args.data, runs or os.path.join(ROOT, "Outputs"))
    driver = None
    try:
        host, port = url.split("//")[1].rstrip("/").rsplit(":", 1)
        print("explorer at", url)
        driver = browser()
        driver.get(url)
        wait_for(driver, lambda d: decodes(d) >= 1 and d.execute_script(PIXEL_HASH) is not None, "the first image")
        sliders = driver.find_elements(By.CSS_SELECTOR, "input.dim-slider")
        if not sliders:
            fail("no latent sliders on the page")
        print("sliders:", len(sliders))

        # Move the most active dimension's slider back and forth; every move must change the image.
        driven, latencies, shown = [], [], []
        for offset in (60, -120, 90, -45, 70, -100, 30, 80):
            d, latency, s = move_slider_and_measure(driver, sliders[0], offset)
            driven.append(d); latencies.append(latency); shown.append(s)
        print("slider move → new image drawn (in the page): median %d ms, max %d ms; decode round trip median %d ms;"
              " seen by WebDriver after %.0f ms"
              % (statistics.median(shown), max(shown), statistics.median(latencies), statistics.median(driven)))
        if statistics.median(shown) >= LATENCY_TARGET_MS:
            fail("a slider move took %d ms to show, over the %d ms target"
                 % (statistics.median(shown), LATENCY_TARGET_MS))
        if args.screenshots:
            os.makedirs(args.screenshots, exist_ok=True)
            driver.save_screenshot(os.path.join(args.screenshots, "explore_latent.png"))

        # A walk between two training images: click one (A), shift-click another (B), move t.
        gallery = driver.find_elements(By.CSS_SELECTOR, "#gallery img")
        if len(gallery) < 2:
            fail("the gallery shows %d images" % len(gallery))
        gallery[0].click()
        ActionChains(driver).key_down("\ue008").click(gallery[5]).key_up("\ue008").perform()
        walk = driver.find_element(By.ID, "walk-t")
        wait_for(driver, lambda d: walk.is_enabled(), "the walk slider to be enabled")
        _, _, walk_shown = move_slider_and_measure(driver, walk, 80)
        t = float(driver.find_element(By.ID, "t-value").text)
        if not 0 < t < 1:
            fail("the walk's t is %s after a move" % t)
        print("walk A→B: t = %.2f, new image drawn %d ms after the move" % (t, walk_shown))
        if args.screenshots:
            driver.save_screenshot(os.path.join(args.screenshots, "explore_walk.png"))

        # The Runs tab lists the run(s) with a curve.
        driver.find_element(By.ID, "tab-runs").click()
        wait_for(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#run-table svg polyline")) >= 1,
                 "the runs table with a curve")
        names = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#run-table b")]
        print("runs listed:", ", ".join(names))
        if args.screenshots:
            time.sleep(0.5)
            driver.save_screenshot(os.path.join(args.screenshots, "explore_runs.png"))

        # Load: many connections at once (half good points, half bad ones), then one more request.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.concurrent + 256)), hard))
        summary = json.load(urllib.request.urlopen(url + "api/model"))
        good = "/api/decode?z=" + ",".join(["0.3"] * summary["latentDim"])
        started = time.perf_counter()
        paths = [good if i % 2 == 0 else "/api/decode?z=oops" for i in range(args.concurrent)]
        statuses = asyncio.run(hammer(host, int(port), paths))
        seconds = time.perf_counter() - started
        ok, bad, none = statuses.count(200), statuses.count(400), statuses.count(0)
        print("%d concurrent requests in %.1f s: %d × 200, %d × 400, %d unanswered"
              % (len(statuses), seconds, ok, bad, none))
        if server.poll() is not None:
            fail("the server exited under load")
        if urllib.request.urlopen(url + "api/model").status != 200:
            fail("the server stopped answering after the load")
        if ok + bad < 0.99 * len(statuses):
            fail("only %d of %d requests were answered" % (ok + bad, len(statuses)))
        print("ok: the explorer works in headless Chromium and survives the load")
        stop(server)
        if not args.no_conditional:
            conditional_phase(args, scratch, driver)
            print("ok: a conditional model's class menu works")
    finally:
        if driver is not None:
            driver.quit()
        stop(server)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
