"""Reading an identity document from an image: the card found, straightened and read.

``image`` prepares the picture (decode in memory, find the card, straighten it),
``engine`` runs Tesseract in memory in one worker thread, ``reader`` turns a KTP or a
passport into fields, ``scanners`` drives SANE's ``scanimage``. The image is never
written anywhere: it lives in this process's memory for the one request.
"""
