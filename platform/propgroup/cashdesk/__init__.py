"""The cash desk (出纳): cheque books and cheques, the cash book, cash counts, petty cash."""
