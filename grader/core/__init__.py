"""The trusted core: select checks, observe (through the sandbox), judge, and
the plain-data protocol and result types between them; the batch of many submissions."""
