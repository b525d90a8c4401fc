# The dashboard's browser test drives Debian's chromium with Playwright (Microsoft.Playwright brings its driver, never a
# browser: downloads of browsers fail here).
ensure_debian_packages chromium
