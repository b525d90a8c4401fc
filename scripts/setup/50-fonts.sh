# Korean text in generated PDFs (the document parser tests and `rag bench parse` draw Hangul with PDFsharp):
# Debian's Nanum fonts (SIL Open Font License). python3-olefile is the independent OLE reader that
# scripts/measure-hwp-text.py cross-checks our compound-file reader against (measurement only, never the product).
ensure_debian_packages fonts-nanum python3-olefile
