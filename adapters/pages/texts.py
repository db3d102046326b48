"""What the client's link pages say, in English and Ukrainian: one entry per link outcome, and the
labels around the meeting's details. Plural forms follow Intl.PluralRules' categories."""

from __future__ import annotations

from bot.usecases.links import LinkOutcome

# (status, seconds before the page reloads itself, and per language: title, message)
PAGES: dict[LinkOutcome, tuple[int, int, dict[str, tuple[str, str]]]] = {
    LinkOutcome.NOT_FOUND: (
        404,
        0,
        {
            "en": (
                "Link not found",
                "This meeting link is not valid. Please check that you copied the whole "
                "link, or ask the business that sent it for a new one.",
            ),
            "uk": (
                "Посилання не знайдено",
                "Це посилання на зустріч недійсне. Перевірте, чи скопійовано його "
                "повністю, або попросіть у компанії нове.",
            ),
        },
    ),
    LinkOutcome.NOT_READY: (
        200,
        10,
        {
            "en": (
                "Your meeting is being prepared",
                "The meeting is being set up right now. This page will refresh by itself.",
            ),
            "uk": ("Зустріч готується", "Зустріч саме зараз створюється. Сторінка оновиться сама."),
        },
    ),
    LinkOutcome.CANCELLED: (
        410,
        0,
        {
            "en": (
                "This meeting was cancelled",
                "The booking behind this link was cancelled, so the meeting "
                "is no longer available.",
            ),
            "uk": (
                "Зустріч скасовано",
                "Бронювання за цим посиланням скасовано, тож зустріч більше недоступна.",
            ),
        },
    ),
    LinkOutcome.PAYMENT_PENDING: (
        200,
        0,
        {
            "en": (
                "Payment pending",
                "Your meeting link will work as soon as the booking is paid or the "
                "payment is approved. If you have just paid, please open this link again in a few minutes.",
            ),
            "uk": (
                "Очікується оплата",
                "Посилання запрацює, щойно бронювання буде оплачено або оплату "
                "підтверджено. Якщо ви щойно оплатили, відкрийте посилання ще раз за кілька хвилин.",
            ),
        },
    ),
    LinkOutcome.WAIT: (
        200,
        0,
        {
            "en": (
                "Your meeting has not started yet",
                "It opens shortly before the booked time. Keep this page open: it takes you "
                "into the meeting by itself as soon as it opens.",
            ),
            "uk": (
                "Зустріч ще не почалася",
                "Вона відкриється незадовго до заброньованого часу. Не закривайте цю сторінку: "
                "вона сама переведе вас на зустріч, щойно та відкриється.",
            ),
        },
    ),
    LinkOutcome.OVER: (
        410,
        0,
        {
            "en": (
                "This meeting is over",
                "The booked time has passed. To meet again, please make a new booking.",
            ),
            "uk": (
                "Зустріч завершено",
                "Заброньований час минув. Щоб зустрітися знову, створіть нове бронювання.",
            ),
        },
    ),
    LinkOutcome.TRY_AGAIN: (
        503,
        60,
        {
            "en": (
                "This link cannot be opened right now",
                "meetbot is briefly unable to look it up. Please try again in a minute; "
                "this page will also try again by itself.",
            ),
            "uk": (
                "Посилання зараз не відкривається",
                "meetbot ненадовго не може його знайти. Спробуйте ще раз за хвилину; "
                "сторінка також спробує сама.",
            ),
        },
    ),
    LinkOutcome.UNAVAILABLE: (
        503,
        30,
        {
            "en": (
                "The meeting cannot be opened right now",
                "The video platform did not answer. Please try again in a minute.",
            ),
            "uk": (
                "Зустріч зараз не відкривається",
                "Відеоплатформа не відповіла. Спробуйте ще раз за хвилину.",
            ),
        },
    ),
}
# The labels around a meeting's details; "days" by Intl.PluralRules category ("other" always).
LABELS: dict[str, dict[str, object]] = {
    "en": {
        "business": "Business",
        "service": "Service",
        "provider": "With",
        "when": "When",
        "waiting_hint": "Opens in:",
        "calendar": "Add to calendar",
        "contact": "Questions about this booking? Please contact {business}.",
        "days": {"one": "day", "other": "days"},
    },
    "uk": {
        "business": "Компанія",
        "service": "Послуга",
        "provider": "Хто проводить",
        "when": "Коли",
        "waiting_hint": "Відкриється через:",
        "calendar": "Додати до календаря",
        "contact": "Питання щодо бронювання? Зверніться до «{business}».",
        "days": {"one": "день", "few": "дні", "many": "днів", "other": "дня"},
    },
}
