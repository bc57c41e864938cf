//! Quoted-text detection on replies as real mailers write them, and on arbitrary input.

use helpdesk_core::quote::{segments, SegmentKind, SegmentKind::*};

/// The segments of `body`, each as its kind and its first line (enough to see where it starts).
fn outline(body: &str) -> Vec<(SegmentKind, &str)> {
    let segs = segments(body);
    assert_eq!(segs.iter().map(|s| s.text).collect::<String>(), body);
    segs.iter()
        .map(|s| (s.kind, s.text.lines().next().unwrap_or("")))
        .collect()
}

/// The text the author wrote now, without quotes and signatures.
fn written(body: &str) -> String {
    segments(body)
        .iter()
        .filter(|s| s.kind == Text)
        .map(|s| s.text)
        .collect()
}

const OUTLOOK_IT: &str = "Buongiorno,
il problema si ripresenta anche oggi: il sito mostra ancora l'errore 500.

Cordiali saluti
Mario Rossi
Pizzeria da Mario S.r.l.

________________________________
Da: Assistenza Tecnica <hd@smacloud.it>
Inviato: lunedì 3 giugno 2024 10:12
A: Mario Rossi <mario@pizzeria-da-mario.it>
Oggetto: [#FPL-809-43017]: Errore 500 sulla home

Gentile cliente,
abbiamo riavviato PHP-FPM, può verificare?
";

#[test]
fn outlook_italian_header_block_quotes_everything_below_its_rule() {
    assert_eq!(
        outline(OUTLOOK_IT),
        [
            (Text, "Buongiorno,"),
            (Quoted, "________________________________")
        ]
    );
    assert!(written(OUTLOOK_IT).ends_with("Pizzeria da Mario S.r.l.\n\n"));
}

const OUTLOOK_EN_ORIGINAL_MESSAGE: &str = "Hi,
still broken, see the attached screenshot.

Thanks
John

-----Original Message-----
From: Helpdesk <hd@smacloud.it> 
Sent: Monday, June 3, 2024 10:12 AM
To: John Smith <john@example.com>
Subject: RE: [#FPL-809-43017]: SMTP 550 relay denied

Dear customer,
> an older quote inside the original
please try again.
";

#[test]
fn outlook_original_message_separator_quotes_everything_below_it() {
    assert_eq!(
        outline(OUTLOOK_EN_ORIGINAL_MESSAGE),
        [(Text, "Hi,"), (Quoted, "-----Original Message-----")]
    );
}

const OUTLOOK_IT_MESSAGGIO_ORIGINALE: &str = "Allego il log.\n\n-----Messaggio originale-----\nDa: hd@smacloud.it\nInviato: 3 giugno 2024\nOggetto: R: backup\n\nok\n";

#[test]
fn outlook_messaggio_originale_separator_quotes_everything_below_it() {
    assert_eq!(
        outline(OUTLOOK_IT_MESSAGGIO_ORIGINALE),
        [
            (Text, "Allego il log."),
            (Quoted, "-----Messaggio originale-----")
        ]
    );
}

const OUTLOOK_BOLD_HEADERS_CRLF: &str = "Ok, grazie: ora la posta arriva.\r\n\r\n*Da:* Assistenza Tecnica [mailto:hd@smacloud.it]\r\n*Inviato:* martedì 4 giugno 2024 09:00\r\n*A:* info@example.it\r\n*Cc:* amministrazione@example.it;\r\n    contabilita@example.it\r\n*Oggetto:* R: [#FPL-809-43017]: La posta non arriva\r\n\r\nGentile cliente,\r\nabbiamo corretto il record MX.\r\n";

#[test]
fn outlook_headers_flattened_from_html_with_crlf_are_found() {
    assert_eq!(
        outline(OUTLOOK_BOLD_HEADERS_CRLF),
        [
            (Text, "Ok, grazie: ora la posta arriva."),
            (Quoted, "*Da:* Assistenza Tecnica [mailto:hd@smacloud.it]")
        ]
    );
    assert_eq!(
        written(OUTLOOK_BOLD_HEADERS_CRLF),
        "Ok, grazie: ora la posta arriva.\r\n\r\n"
    );
}

const OUTLOOK_MOBILE_EN: &str = "Restarted it myself, works now.

Get Outlook for Android

________________________________
From: Helpdesk <hd@smacloud.it>
Sent: Monday, June 3, 2024 10:12:00 AM
To: john@example.com <john@example.com>
Subject: [#FPL-809-43017]: vps-0042 unreachable

Hello,
";

#[test]
fn outlook_mobile_footer_is_a_signature_before_the_quote() {
    assert_eq!(
        outline(OUTLOOK_MOBILE_EN),
        [
            (Text, "Restarted it myself, works now."),
            (Signature, "Get Outlook for Android"),
            (Quoted, "________________________________")
        ]
    );
}

const GMAIL_IT_WRAPPED: &str = "Ho svuotato la cache ma la pagina è ancora bianca.

Il giorno lun 3 giu 2024 alle ore 10:12 Assistenza Tecnica <
hd@smacloud.it> ha scritto:

> Gentile cliente,
> può provare a svuotare la cache del plugin?
>
> --
> Assistenza Tecnica
>
";

#[test]
fn gmail_italian_attribution_wrapped_over_two_lines_starts_the_quote() {
    assert_eq!(
        outline(GMAIL_IT_WRAPPED),
        [
            (Text, "Ho svuotato la cache ma la pagina è ancora bianca."),
            (
                Quoted,
                "Il giorno lun 3 giu 2024 alle ore 10:12 Assistenza Tecnica <"
            )
        ]
    );
}

const GMAIL_IT_ONE_LINE: &str = "Grazie, risolto.\n\nIl giorno lun 3 giu 2024 alle ore 10:12 Mario Rossi <m@x.it> ha scritto:\n> ok\n";

#[test]
fn gmail_italian_attribution_on_one_line_starts_the_quote() {
    assert_eq!(
        outline(GMAIL_IT_ONE_LINE),
        [
            (Text, "Grazie, risolto."),
            (
                Quoted,
                "Il giorno lun 3 giu 2024 alle ore 10:12 Mario Rossi <m@x.it> ha scritto:"
            )
        ]
    );
}

const GMAIL_EN_WITH_SIGNATURE: &str = "The DNS still points to the old IP.

-- 
John Smith
Example Ltd

On Mon, Jun 3, 2024 at 10:12 AM Helpdesk <hd@smacloud.it> wrote:

> Hello,
> we updated the A record.
>> On Sun, Jun 2, 2024 at 9:00 PM John Smith <john@example.com> wrote:
>> DNS does not propagate
";

#[test]
fn gmail_english_reply_keeps_text_signature_and_quote_apart() {
    assert_eq!(
        outline(GMAIL_EN_WITH_SIGNATURE),
        [
            (Text, "The DNS still points to the old IP."),
            (Signature, "-- "),
            (
                Quoted,
                "On Mon, Jun 3, 2024 at 10:12 AM Helpdesk <hd@smacloud.it> wrote:"
            )
        ]
    );
}

const GMAIL_EN_WRAPPED_ADDRESS: &str = "Still failing.\n\nOn Mon, Jun 3, 2024 at 10:12 AM Helpdesk Smacloud Assistenza Tecnica <\nhd@smacloud.it> wrote:\n\n> Please retry\n";

#[test]
fn gmail_english_attribution_wrapped_inside_the_address_starts_the_quote() {
    assert_eq!(
        written(GMAIL_EN_WRAPPED_ADDRESS),
        "Still failing.\n\n",
        "{:?}",
        outline(GMAIL_EN_WRAPPED_ADDRESS)
    );
}

const APPLE_MAIL_IOS_IT: &str = "Confermo, ora funziona.

Inviato da iPhone

> Il giorno 3 giu 2024, alle ore 10:12, Assistenza Tecnica <hd@smacloud.it> ha scritto:
> 
> Gentile cliente,
> abbiamo rinnovato il certificato SSL.
";

#[test]
fn apple_mail_on_iphone_italian_has_text_signature_and_quote() {
    assert_eq!(
        outline(APPLE_MAIL_IOS_IT),
        [
            (Text, "Confermo, ora funziona."),
            (Signature, "Inviato da iPhone"),
            (
                Quoted,
                "> Il giorno 3 giu 2024, alle ore 10:12, Assistenza Tecnica <hd@smacloud.it> ha scritto:"
            )
        ]
    );
}

const APPLE_MAIL_MAC_IT_UNMARKED: &str = "Va bene, procedete pure.

Il giorno 3 giu 2024, alle ore 10:12, Assistenza Tecnica <hd@smacloud.it> ha scritto:

Gentile cliente,
possiamo procedere con la migrazione stanotte?
";

#[test]
fn apple_mail_attribution_above_unmarked_text_quotes_everything_below() {
    assert_eq!(
        outline(APPLE_MAIL_MAC_IT_UNMARKED),
        [
            (Text, "Va bene, procedete pure."),
            (
                Quoted,
                "Il giorno 3 giu 2024, alle ore 10:12, Assistenza Tecnica <hd@smacloud.it> ha scritto:"
            )
        ]
    );
}

const APPLE_MAIL_EN_INTERLEAVED: &str = "On 3 Jun 2024, at 10:12, Helpdesk <hd@smacloud.it> wrote:
> 
> Which PHP version do you need?

8.2, please.

> And should we enable OPcache?

Yes.

Sent from my iPad
";

#[test]
fn answers_between_quoted_questions_stay_text() {
    assert_eq!(
        outline(APPLE_MAIL_EN_INTERLEAVED),
        [
            (
                Quoted,
                "On 3 Jun 2024, at 10:12, Helpdesk <hd@smacloud.it> wrote:"
            ),
            (Text, ""),
            (Quoted, "> And should we enable OPcache?"),
            (Text, ""),
            (Signature, "Sent from my iPad")
        ]
    );
    assert_eq!(
        written(APPLE_MAIL_EN_INTERLEAVED),
        "\n8.2, please.\n\n\nYes.\n\n"
    );
}

const THUNDERBIRD_IT_BOTTOM_POST: &str = "Il 03/06/2024 10:12, Assistenza Tecnica ha scritto:
> Gentile cliente,
> ci conferma il dominio?

Sì, è pizzeria-da-mario.it

-- 
Mario Rossi
";

#[test]
fn thunderbird_italian_bottom_post_keeps_the_answer_below_the_quote() {
    assert_eq!(
        outline(THUNDERBIRD_IT_BOTTOM_POST),
        [
            (
                Quoted,
                "Il 03/06/2024 10:12, Assistenza Tecnica ha scritto:"
            ),
            (Text, ""),
            (Signature, "-- ")
        ]
    );
    assert_eq!(
        written(THUNDERBIRD_IT_BOTTOM_POST),
        "\nSì, è pizzeria-da-mario.it\n\n"
    );
}

const THUNDERBIRD_EN_TOP_POST_NESTED: &str = "Backup completed tonight, thanks.\r\n\r\nOn 03/06/2024 10:12, Helpdesk wrote:\r\n> We restarted the job.\r\n>\r\n> On 02/06/2024 22:01, John Smith wrote:\r\n>> Backup not completed since Friday.\r\n>>\r\n";

#[test]
fn thunderbird_english_top_post_with_nested_quotes_folds_as_one_quote() {
    assert_eq!(
        outline(THUNDERBIRD_EN_TOP_POST_NESTED),
        [
            (Text, "Backup completed tonight, thanks."),
            (Quoted, "On 03/06/2024 10:12, Helpdesk wrote:")
        ]
    );
}

const FRENCH_GMAIL: &str = "Merci, c'est réglé.\n\nLe lun. 3 juin 2024 à 10:12, Support <hd@smacloud.it> a écrit :\n\n> Bonjour,\n";

#[test]
fn french_attribution_starts_the_quote() {
    assert_eq!(written(FRENCH_GMAIL), "Merci, c'est réglé.\n\n");
}

const GMAIL_FORWARD: &str = "Vi inoltro il rifiuto ricevuto.\n\n---------- Forwarded message ---------\nDa: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nDate: lun 3 giu 2024 alle ore 10:12\nSubject: Delivery Status Notification (Failure)\nTo: <info@example.it>\n\n550 5.7.1 relay denied\n";

#[test]
fn a_forwarded_message_folds_below_its_separator() {
    assert_eq!(
        outline(GMAIL_FORWARD),
        [
            (Text, "Vi inoltro il rifiuto ricevuto."),
            (Quoted, "---------- Forwarded message ---------")
        ]
    );
}

const WEB_MESSAGE_WITH_LOOKALIKES: &str = "Buongiorno,
il carico della CPU è > 90% e il log dice: PHP -> fatal error.
On the old server the previous admin wrote: \"do not touch the cron\".
Da: lunedì il sito è lento.
Inviato da noi il file di log, vedi allegato.
--> passi per riprodurre:
1. aprire la home
";

#[test]
fn a_web_message_with_look_alikes_is_all_text() {
    assert_eq!(
        outline(WEB_MESSAGE_WITH_LOOKALIKES),
        [(Text, "Buongiorno,")]
    );
}

const DA_LINE_WITHOUT_HEADER_BLOCK: &str =
    "Da: ieri non ricevo posta.\nOggetto della mail: fattura\n\ngrazie\n";

#[test]
fn a_lone_da_line_is_not_an_outlook_header() {
    assert_eq!(
        outline(DA_LINE_WITHOUT_HEADER_BLOCK),
        [(Text, "Da: ieri non ricevo posta.")]
    );
}

/// Small deterministic generator, so that the property test needs no extra crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "\n",
    "\r\n",
    "\r",
    "> ",
    ">",
    ">> ",
    "-- ",
    "--",
    "-- \n",
    " ",
    "\t",
    "a",
    "Zz",
    "è",
    "€",
    "🙂",
    "日本語",
    "\u{a0}",
    "\u{feff}",
    "wrote:",
    "ha scritto:",
    "On 3 Jun 2024, Mario <m@x.it> wrote:",
    "Il giorno 3 giu 2024 alle ore 10:12 Mario <",
    "m@x.it> ha scritto:",
    "Il 03/06/2024 10:12, Mario Rossi ha scritto:\n",
    "From: a",
    "Da: b\n",
    "Sent: c\n",
    "Inviato: d\n",
    "To: e\n",
    "A: f\n",
    "Subject: g\n",
    "Oggetto: h\n",
    "*Da:* ",
    "-----Original Message-----",
    "-----Messaggio originale-----\n",
    "________________________________\n",
    "Inviato da iPhone",
    "Sent from my iPhone\n",
    "Le 3 juin 2024, X a écrit :",
    "1",
    ":",
    "@",
];

#[test]
fn segments_always_concatenate_back_to_any_input() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for _ in 0..5_000 {
        let mut body = String::new();
        for _ in 0..rng.below(40) {
            if rng.below(8) == 0 {
                // Any scalar value, not only the pieces above.
                let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('\u{fffd}');
                body.push(c);
            } else {
                body.push_str(PIECES[rng.below(PIECES.len())]);
            }
        }
        let segs = segments(&body);
        assert_eq!(segs.iter().map(|s| s.text).collect::<String>(), body);
        assert!(segs.iter().all(|s| !s.text.is_empty()), "{body:?}");
        assert!(segs.windows(2).all(|w| w[0].kind != w[1].kind), "{body:?}");
        assert!(
            segs.iter().rev().skip(1).all(|s| s.text.ends_with('\n')),
            "segments are cut only at line ends: {body:?}"
        );
    }
}

#[test]
fn every_fixture_concatenates_back_exactly() {
    for body in [
        OUTLOOK_IT,
        OUTLOOK_EN_ORIGINAL_MESSAGE,
        OUTLOOK_IT_MESSAGGIO_ORIGINALE,
        OUTLOOK_BOLD_HEADERS_CRLF,
        OUTLOOK_MOBILE_EN,
        GMAIL_IT_WRAPPED,
        GMAIL_IT_ONE_LINE,
        GMAIL_EN_WITH_SIGNATURE,
        GMAIL_EN_WRAPPED_ADDRESS,
        APPLE_MAIL_IOS_IT,
        APPLE_MAIL_MAC_IT_UNMARKED,
        APPLE_MAIL_EN_INTERLEAVED,
        THUNDERBIRD_IT_BOTTOM_POST,
        THUNDERBIRD_EN_TOP_POST_NESTED,
        FRENCH_GMAIL,
        GMAIL_FORWARD,
        WEB_MESSAGE_WITH_LOOKALIKES,
        DA_LINE_WITHOUT_HEADER_BLOCK,
    ] {
        let rebuilt: String = segments(body).iter().map(|s| s.text).collect();
        assert_eq!(rebuilt, body);
    }
}

#[test]
fn a_long_thread_is_segmented_quickly_and_in_one_pass() {
    let mut body = String::from("Risposta breve.\n\n");
    for _ in 0..5_000 {
        body.push_str("> riga citata con è e 🙂\n");
    }
    let segs = segments(&body);
    assert_eq!(segs.len(), 2);
    assert_eq!(segs[1].kind, Quoted);
}
