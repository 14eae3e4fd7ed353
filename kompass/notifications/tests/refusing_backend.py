"""An e-mail backend whose server refuses every recipient, quoting the address (as smtplib does)."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        refused = {address: (550, b"5.1.1 User unknown") for message in email_messages for address in message.to}
        raise smtplib.SMTPRecipientsRefused(refused)
