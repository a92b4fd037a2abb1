/*
 * The advisor console's interface strings in Finnish, Swedish and English.
 * Each key holds [fi, sv, en]. Placeholders are {name}; values are inserted as text.
 * Topic and team names are not here: they come from the server (GET /console/api/me).
 */

export const LANGUAGES = ["fi", "sv", "en"];
export const LOCALES = { fi: "fi-FI", sv: "sv-FI", en: "en-GB" };
export const TIME_ZONE = "Europe/Helsinki";

const TEXTS = {
  // --- page, header, navigation -------------------------------------------------------------
  product: ["Neuvo – neuvojan näkymä", "Neuvo – rådgivarvy", "Neuvo – advisor console"],
  skip_to_main: ["Siirry pääsisältöön", "Hoppa till huvudinnehållet", "Skip to main content"],
  language: ["Kieli", "Språk", "Language"],
  logout: ["Kirjaudu ulos", "Logga ut", "Log out"],
  change_password: ["Vaihda salasana", "Byt lösenord", "Change password"],
  signed_in_as: ["Kirjautuneena: {name} ({role})", "Inloggad: {name} ({role})", "Signed in: {name} ({role})"],
  conn_connecting: ["Yhdistetään…", "Ansluter…", "Connecting…"],
  conn_live: ["Ajantasainen", "Uppdateras direkt", "Live"],
  conn_reconnecting: ["Yhdistetään uudelleen…", "Ansluter på nytt…", "Reconnecting…"],
  nav_label: ["Päävalikko", "Huvudmeny", "Main menu"],
  nav_queue: ["Jono", "Kö", "Queue"],
  nav_inbox: ["Jätetyt viestit", "Lämnade meddelanden", "Inbox"],
  nav_inbox_count: ["Jätetyt viestit ({n})", "Lämnade meddelanden ({n})", "Inbox ({n})"],
  nav_users: ["Käyttäjät", "Användare", "Users"],
  nav_audit: ["Käyttöloki", "Händelselogg", "Audit log"],
  nav_content: ["Sisältö", "Innehåll", "Content"],
  team_status_label: ["Tiimien tilanne", "Teamens läge", "Team status"],
  team_open: ["avoinna", "öppet", "open"],
  team_closed: ["suljettu", "stängt", "closed"],
  team_online: ["{n} paikalla", "{n} inloggade", "{n} online"],
  team_waiting: ["{n} odottaa", "{n} väntar", "{n} waiting"],
  team_wait_estimate: ["arvioitu odotus {time}", "beräknad väntetid {time}", "estimated wait {time}"],
  team_wait_unknown: ["ei odotusarviota", "ingen uppskattad väntetid", "no wait estimate"],
  team_hours: ["aukioloaika {hours}", "öppettider {hours}", "hours {hours}"],
  about_minutes: ["noin {n} min", "cirka {n} min", "about {n} min"],
  under_minute: ["alle minuutti", "under en minut", "under a minute"],
  dur_s: ["{s} s", "{s} s", "{s} s"],
  dur_ms: ["{m} min {s} s", "{m} min {s} s", "{m} min {s} s"],
  dur_hm: ["{h} t {m} min", "{h} h {m} min", "{h} h {m} min"],
  notices_label: ["Ilmoitukset", "Meddelanden", "Notices"],
  dismiss: ["Piilota", "Dölj", "Dismiss"],
  loading: ["Ladataan…", "Laddar…", "Loading…"],
  yes: ["Kyllä", "Ja", "Yes"],
  no: ["Ei", "Nej", "No"],
  none: ["—", "—", "—"],
  cancel: ["Peruuta", "Avbryt", "Cancel"],
  save: ["Tallenna", "Spara", "Save"],
  open: ["Avaa", "Öppna", "Open"],
  noscript: [
    "Neuvojan näkymä tarvitsee JavaScriptin.",
    "Rådgivarvyn behöver JavaScript.",
    "The advisor console needs JavaScript."
  ],

  // --- roles, languages, channels, reasons, outcomes ----------------------------------------
  role_advisor: ["neuvoja", "rådgivare", "advisor"],
  role_editor: ["sisällön ylläpitäjä", "innehållsredaktör", "editor"],
  role_admin: ["pääkäyttäjä", "huvudanvändare", "administrator"],
  lang_fi: ["suomi", "finska", "Finnish"],
  lang_sv: ["ruotsi", "svenska", "Swedish"],
  lang_en: ["englanti", "engelska", "English"],
  channel_web: ["verkkochat", "webbchatt", "web chat"],
  channel_telegram: ["Telegram", "Telegram", "Telegram"],
  reason_requested: ["Asiakas pyysi neuvojaa", "Klienten bad om en rådgivare", "The citizen asked for an advisor"],
  reason_not_understood: ["Botti ei ymmärtänyt", "Boten förstod inte", "The bot did not understand"],
  reason_crisis: ["Kriisin merkkejä", "Tecken på kris", "Signs of a crisis"],
  reason_transferred: ["Siirretty", "Överfört", "Transferred"],
  reason_returned: ["Palautunut jonoon", "Återkommit till kön", "Returned to the queue"],
  outcome_answered: ["Vastattu", "Besvarat", "Answered"],
  outcome_referred: ["Ohjattu palveluun", "Hänvisat till en tjänst", "Referred to a service"],
  outcome_no_reply: ["Asiakas ei vastannut", "Klienten svarade inte", "No reply from the citizen"],
  topic_unknown: ["aihe ei tiedossa", "okänt ämne", "no topic"],

  // --- login ---------------------------------------------------------------------------------
  login_title: ["Kirjaudu sisään", "Logga in", "Sign in"],
  login_name: ["Käyttäjätunnus", "Användarnamn", "User name"],
  login_password: ["Salasana", "Lösenord", "Password"],
  login_submit: ["Kirjaudu", "Logga in", "Sign in"],
  login_busy: ["Kirjaudutaan…", "Loggar in…", "Signing in…"],
  login_missing: ["Anna käyttäjätunnus ja salasana.", "Ange användarnamn och lösenord.", "Enter your user name and password."],
  session_ended: ["Istunto päättyi. Kirjaudu uudelleen.", "Sessionen har upphört. Logga in igen.", "Session ended. Please sign in again."],
  logged_out: ["Olet kirjautunut ulos.", "Du har loggat ut.", "You have signed out."],

  // --- queue and inbox ------------------------------------------------------------------------
  queue_title: ["Jono", "Kö", "Queue"],
  queue_caption: [
    "Jonossa ja käsittelyssä olevat keskustelut, kriisit ensin ja sitten saapumisjärjestyksessä",
    "Samtal i kö och under behandling, kriser först och sedan i ankomstordning",
    "Conversations waiting and in progress, crises first, then in order of arrival"
  ],
  queue_empty: ["Jonossa ei ole keskusteluja.", "Det finns inga samtal i kön.", "There are no conversations in the queue."],
  inbox_title: ["Jätetyt viestit", "Lämnade meddelanden", "Inbox"],
  inbox_caption: [
    "Aukioloaikojen ulkopuolella tai jonon ollessa täynnä jätetyt viestit, vanhin ensin",
    "Meddelanden som lämnats utanför öppettiderna eller när kön var full, äldsta först",
    "Messages left outside office hours or when the queue was full, oldest first"
  ],
  inbox_empty: ["Vastaamattomia viestejä ei ole.", "Det finns inga obesvarade meddelanden.", "There are no unanswered messages."],
  col_priority: ["Kiireellisyys", "Prioritet", "Priority"],
  col_waiting: ["Odottanut", "Väntat", "Waiting"],
  col_topic: ["Aihe", "Ämne", "Topic"],
  col_language: ["Kieli", "Språk", "Language"],
  col_channel: ["Kanava", "Kanal", "Channel"],
  col_team: ["Tiimi", "Team", "Team"],
  col_status: ["Tila", "Status", "Status"],
  col_reason: ["Syy", "Orsak", "Reason"],
  col_actions: ["Toiminnot", "Åtgärder", "Actions"],
  col_received: ["Saapunut", "Mottaget", "Received"],
  col_reply_by: ["Vastattava viimeistään", "Ska besvaras senast", "Reply by"],
  crisis: ["Kriisi", "Kris", "Crisis"],
  normal: ["Tavallinen", "Normal", "Normal"],
  overdue: ["Myöhässä", "Försenat", "Overdue"],
  due_today: ["Tänään", "I dag", "Due today"],
  status_waiting: ["Odottaa", "Väntar", "Waiting"],
  status_waiting_position: ["Odottaa ({n}. jonossa)", "Väntar (nummer {n} i kön)", "Waiting (number {n} in the queue)"],
  status_handles: ["{name} hoitaa", "{name} sköter", "{name} handles"],
  status_you: ["Sinä hoidat", "Du sköter", "You handle"],
  status_message: ["Jätetty viesti", "Lämnat meddelande", "Left message"],
  claim: ["Ota hoitoon", "Ta emot", "Claim"],
  announce_new: ["Uusi keskustelu odottaa: {topic}", "Ett nytt samtal väntar: {topic}", "New conversation waiting: {topic}"],
  announce_new_crisis: [
    "Kriisi: uusi keskustelu odottaa: {topic}",
    "Kris: ett nytt samtal väntar: {topic}",
    "Crisis: new conversation waiting: {topic}"
  ],
  claimed_ok: ["Keskustelu on nyt sinun hoidossasi.", "Du sköter nu samtalet.", "You now handle this conversation."],

  // --- conversation ---------------------------------------------------------------------------
  conversation: ["Keskustelu", "Samtal", "Conversation"],
  conversation_title: ["Keskustelu: {topic}", "Samtal: {topic}", "Conversation: {topic}"],
  back_queue: ["Takaisin jonoon", "Tillbaka till kön", "Back to the queue"],
  back_inbox: ["Takaisin jätettyihin viesteihin", "Tillbaka till lämnade meddelanden", "Back to the inbox"],
  conversation_actions: ["Keskustelun toiminnot", "Åtgärder för samtalet", "Conversation actions"],
  summary_label: ["Keskustelun tiedot", "Uppgifter om samtalet", "Conversation details"],
  sum_status: ["Tila", "Status", "Status"],
  sum_priority: ["Kiireellisyys", "Prioritet", "Priority"],
  sum_topic: ["Aihe", "Ämne", "Topic"],
  sum_language: ["Kieli", "Språk", "Language"],
  sum_channel: ["Kanava", "Kanal", "Channel"],
  sum_team: ["Tiimi", "Team", "Team"],
  sum_reason: ["Syy", "Orsak", "Reason"],
  sum_waiting: ["Odottanut", "Väntat", "Waiting for"],
  sum_since_handoff: ["Siirrosta neuvojalle", "Sedan överlämningen", "Since the handoff"],
  sum_received: ["Saapunut", "Mottaget", "Received"],
  sum_reply_by: ["Vastaus luvattu viimeistään", "Svar utlovat senast", "Answer promised by"],
  sum_started: ["Alkoi", "Började", "Started"],
  sum_outcome: ["Lopputulos", "Resultat", "Outcome"],
  transcript: ["Keskustelun kulku", "Samtalets förlopp", "Transcript"],
  transcript_empty: ["Keskustelussa ei ole viestejä.", "Samtalet har inga meddelanden.", "This conversation has no messages."],
  sender_citizen: ["Asiakas", "Klient", "Citizen"],
  sender_bot: ["Botti", "Boten", "Bot"],
  sender_you: ["Sinä", "Du", "You"],
  sender_advisor: ["Neuvoja", "Rådgivare", "Advisor"],
  sender_system: ["Järjestelmä", "System", "System"],
  reading_label: ["Botin tulkinta:", "Botens tolkning:", "Bot's reading:"],
  redacted: ["Poistettu: {list}", "Borttaget: {list}", "Removed: {list}"],
  redaction_hetu: ["henkilötunnus", "personbeteckning", "identity code"],
  redaction_phone: ["puhelinnumero", "telefonnummer", "phone number"],
  redaction_email: ["sähköpostiosoite", "e-postadress", "email address"],
  redaction_iban: ["tilinumero", "kontonummer", "bank account number"],
  buttons_shown: ["Botin painikkeet: {list}", "Botens knappar: {list}", "Buttons shown: {list}"],
  note_label_note: [
    "Sisäinen muistiinpano – asiakas ei näe tätä",
    "Intern anteckning – klienten ser inte detta",
    "Internal note – the citizen does not see this"
  ],
  note_label_transfer: [
    "Siirron muistiinpano – asiakas ei näe tätä",
    "Anteckning vid överföring – klienten ser inte detta",
    "Transfer note – the citizen does not see this"
  ],
  note_label_system: [
    "Järjestelmän merkintä – asiakas ei näe tätä",
    "Systemanteckning – klienten ser inte detta",
    "System note – the citizen does not see this"
  ],
  citizen_typing: ["Asiakas kirjoittaa…", "Klienten skriver…", "Citizen is typing…"],
  state_hold: ["Sinä hoidat tätä keskustelua.", "Du sköter det här samtalet.", "You handle this conversation."],
  state_queued: [
    "Keskustelu odottaa jonossa. Ota se hoitoon, niin voit vastata.",
    "Samtalet väntar i kön. Ta emot det för att kunna svara.",
    "The conversation is waiting in the queue. Claim it to reply."
  ],
  state_watch: [
    "{name} hoitaa tätä keskustelua. Voit lukea sitä ja lisätä sisäisiä muistiinpanoja.",
    "{name} sköter det här samtalet. Du kan läsa det och lägga till interna anteckningar.",
    "{name} handles this conversation. You can read it and add internal notes."
  ],
  state_message: [
    "Asiakas jätti viestin. Vastaus on luvattu viimeistään {date}.",
    "Klienten lämnade ett meddelande. Svar har utlovats senast {date}.",
    "The citizen left a message. An answer was promised by {date}."
  ],
  state_ended: [
    "Keskustelu ei ole enää jonossa eikä kenenkään hoidossa.",
    "Samtalet finns inte längre i kön och ingen sköter det.",
    "This conversation is no longer in the queue or with an advisor."
  ],
  removed_released: ["Keskustelu palautettiin botille.", "Samtalet återfördes till boten.", "The conversation was returned to the bot."],
  removed_closed: ["Keskustelu päätettiin.", "Samtalet avslutades.", "The conversation was closed."],
  removed_answered: ["Viestiin on vastattu.", "Meddelandet har besvarats.", "The message has been answered."],
  removed_transferred: [
    "Keskustelu siirrettiin tiimille, jonka jonoa et näe.",
    "Samtalet överfördes till ett team vars kö du inte ser.",
    "The conversation was transferred to a team whose queue you do not see."
  ],
  removed_cancelled: ["Asiakas perui keskustelun.", "Klienten avbröt samtalet.", "The citizen cancelled the conversation."],
  removed_purged: [
    "Keskustelu poistettiin säilytysajan päätyttyä.",
    "Samtalet raderades när lagringstiden gick ut.",
    "The conversation was deleted at the end of its retention period."
  ],
  reply_heading: ["Vastaus", "Svar", "Reply"],
  reply_label: ["Vastaus asiakkaalle", "Svar till klienten", "Reply to the citizen"],
  reply_hint: [
    "Enter lähettää, vaihto + Enter tekee rivinvaihdon.",
    "Enter skickar, Skift + Enter ger en ny rad.",
    "Enter sends, Shift + Enter adds a new line."
  ],
  send: ["Lähetä", "Skicka", "Send"],
  sending: ["Lähetetään…", "Skickas…", "Sending…"],
  answer_heading: ["Vastaus jätettyyn viestiin", "Svar på det lämnade meddelandet", "Answer to the left message"],
  answer_label: ["Vastaus asiakkaalle", "Svar till klienten", "Answer to the citizen"],
  answer_hint: [
    "Asiakas lukee vastauksen verkkochatissa viitekoodilla tai Telegramissa. Viestiin voi vastata vain kerran.",
    "Klienten läser svaret i webbchatten med referenskoden eller i Telegram. Meddelandet kan besvaras bara en gång.",
    "The citizen reads the answer in the web chat with the reference code, or in Telegram. A message can be answered only once."
  ],
  send_answer: ["Lähetä vastaus", "Skicka svaret", "Send answer"],
  answer_sent: ["Vastaus lähetetty.", "Svaret har skickats.", "Answer sent."],
  empty_text: ["Kirjoita ensin teksti.", "Skriv en text först.", "Write a text first."],
  canned_heading: ["Valmiit vastaukset", "Färdiga svar", "Canned responses"],
  canned_filter: ["Hae valmiista vastauksista", "Sök bland färdiga svar", "Search canned responses"],
  canned_hint: [
    "Valittu vastaus lisätään vastauskenttään, jossa voit muokata sitä ennen lähettämistä.",
    "Det valda svaret läggs in i svarsfältet, där du kan redigera det innan du skickar.",
    "The chosen response is inserted into the reply field, where you can edit it before sending."
  ],
  canned_count: ["{n} vastausta", "{n} svar", "{n} responses"],
  canned_none: ["Ei osumia.", "Inga träffar.", "No matches."],
  canned_inserted: ["Valmis vastaus lisätty vastauskenttään.", "Det färdiga svaret har lagts in i svarsfältet.", "Canned response inserted into the reply."],
  notes_heading: ["Sisäiset muistiinpanot", "Interna anteckningar", "Internal notes"],
  note_field: ["Uusi sisäinen muistiinpano", "Ny intern anteckning", "New internal note"],
  note_hint: [
    "Vain neuvojat näkevät muistiinpanot. Asiakas ei näe niitä.",
    "Bara rådgivare ser anteckningarna. Klienten ser dem inte.",
    "Only advisors see notes. The citizen does not see them."
  ],
  add_note: ["Lisää muistiinpano", "Lägg till anteckning", "Add note"],
  note_added: ["Muistiinpano lisätty.", "Anteckningen har lagts till.", "Note added."],
  transfer: ["Siirrä…", "Överför…", "Transfer…"],
  release: ["Palauta botille…", "Återför till boten…", "Return to bot…"],
  close_conversation: ["Päätä keskustelu…", "Avsluta samtalet…", "Close…"],
  transfer_title: ["Siirrä keskustelu", "Överför samtalet", "Transfer the conversation"],
  transfer_to: ["Siirron kohde", "Överför till", "Transfer to"],
  to_team: ["Tiimin jonoon", "Ett teams kö", "A team's queue"],
  to_advisor: ["Tietylle neuvojalle", "En viss rådgivare", "A particular advisor"],
  team_label: ["Tiimi", "Team", "Team"],
  advisor_label: ["Neuvoja", "Rådgivare", "Advisor"],
  advisor_hint: [
    "Vain paikalla olevat neuvojat, joilla on tilaa, voivat ottaa keskustelun vastaan.",
    "Bara inloggade rådgivare som har plats kan ta emot samtalet.",
    "Only advisors who are online and have room can receive the conversation."
  ],
  choose: ["Valitse…", "Välj…", "Choose…"],
  team_option: ["{name} – {open}, {online}, {waiting}", "{name} – {open}, {online}, {waiting}", "{name} – {open}, {online}, {waiting}"],
  advisor_option: ["{name} – {state}, hoitaa {holding}/{capacity}", "{name} – {state}, sköter {holding}/{capacity}", "{name} – {state}, handles {holding}/{capacity}"],
  advisor_online: ["paikalla", "inloggad", "online"],
  advisor_offline: ["ei paikalla", "inte inloggad", "offline"],
  advisor_full: ["ei tilaa", "fullt", "full"],
  transfer_note: [
    "Muistiinpano vastaanottajalle (vapaaehtoinen, asiakas ei näe)",
    "Anteckning till mottagaren (frivillig, klienten ser den inte)",
    "Note for the receiver (optional; the citizen does not see it)"
  ],
  transfer_confirm: ["Siirrä", "Överför", "Transfer"],
  choose_team: ["Valitse tiimi.", "Välj ett team.", "Choose a team."],
  choose_advisor: ["Valitse neuvoja.", "Välj en rådgivare.", "Choose an advisor."],
  transferred_ok: ["Keskustelu siirretty: {target}.", "Samtalet har överförts: {target}.", "Conversation transferred: {target}."],
  release_title: ["Palauta keskustelu botille", "Återför samtalet till boten", "Return the conversation to the bot"],
  release_text: [
    "Botti tervehtii asiakasta uudelleen, ja keskustelu poistuu jonosta.",
    "Boten hälsar klienten på nytt och samtalet lämnar kön.",
    "The bot greets the citizen again and the conversation leaves the queue."
  ],
  release_note: ["Muistiinpano (vapaaehtoinen, asiakas ei näe)", "Anteckning (frivillig, klienten ser den inte)", "Note (optional; the citizen does not see it)"],
  release_confirm: ["Palauta botille", "Återför till boten", "Return to bot"],
  released_ok: ["Keskustelu palautettu botille.", "Samtalet har återförts till boten.", "The conversation was returned to the bot."],
  close_title: ["Päätä keskustelu", "Avsluta samtalet", "Close the conversation"],
  close_text: [
    "Poistut keskustelusta, ja botti tervehtii asiakasta uudelleen.",
    "Du lämnar samtalet och boten hälsar klienten på nytt.",
    "You leave the conversation and the bot greets the citizen again."
  ],
  outcome_legend: ["Lopputulos", "Resultat", "Outcome"],
  service_label: ["Mihin palveluun", "Vilken tjänst", "Which service"],
  choose_outcome: ["Valitse lopputulos.", "Välj ett resultat.", "Choose an outcome."],
  service_required: ["Kerro, mihin palveluun ohjasit asiakkaan.", "Ange vilken tjänst du hänvisade klienten till.", "Say which service you referred the citizen to."],
  close_confirm: ["Päätä keskustelu", "Avsluta samtalet", "Close the conversation"],
  closed_ok: ["Keskustelu päätetty.", "Samtalet har avslutats.", "The conversation was closed."],

  // --- notices from the server --------------------------------------------------------------
  notice_returned_no_reply: [
    "Keskustelu palautui jonoon, koska et vastannut määräajassa: {topic}",
    "Samtalet gick tillbaka till kön eftersom du inte svarade i tid: {topic}",
    "Conversation returned to the queue because you did not reply in time: {topic}"
  ],
  notice_returned_offline: [
    "Keskustelu palautui jonoon, koska yhteytesi oli poikki: {topic}",
    "Samtalet gick tillbaka till kön eftersom din anslutning var bruten: {topic}",
    "Conversation returned to the queue because you were offline: {topic}"
  ],
  notice_transferred_to_you: [
    "Sinulle siirrettiin keskustelu: {topic}",
    "Ett samtal överfördes till dig: {topic}",
    "A conversation was transferred to you: {topic}"
  ],
  notice_other: ["Ilmoitus keskustelusta: {topic}", "Meddelande om ett samtal: {topic}", "Notice about a conversation: {topic}"],

  // --- users -----------------------------------------------------------------------------------
  users_title: ["Käyttäjät", "Användare", "Users"],
  users_caption: ["Konsolin käyttäjätilit", "Konsolens användarkonton", "Console accounts"],
  users_empty: ["Käyttäjiä ei ole.", "Det finns inga användare.", "There are no users."],
  col_name: ["Käyttäjätunnus", "Användarnamn", "User name"],
  col_display_name: ["Näyttönimi", "Visningsnamn", "Display name"],
  col_role: ["Rooli", "Roll", "Role"],
  col_teams: ["Tiimit", "Team", "Teams"],
  col_capacity: ["Kapasiteetti", "Kapacitet", "Capacity"],
  col_active: ["Käytössä", "Aktiv", "Active"],
  col_locked: ["Lukitus", "Låsning", "Lock"],
  col_last_login: ["Viimeisin kirjautuminen", "Senaste inloggning", "Last sign-in"],
  locked_until: ["Lukittu {time} asti", "Låst till {time}", "Locked until {time}"],
  never: ["ei koskaan", "aldrig", "never"],
  edit: ["Muokkaa", "Redigera", "Edit"],
  reset_password: ["Uusi salasana", "Nytt lösenord", "Reset password"],
  unlock: ["Poista lukitus", "Lås upp", "Unlock"],
  add_user_heading: ["Lisää käyttäjä", "Lägg till en användare", "Add a user"],
  field_name: ["Käyttäjätunnus", "Användarnamn", "User name"],
  field_display_name: ["Näyttönimi", "Visningsnamn", "Display name"],
  field_role: ["Rooli", "Roll", "Role"],
  field_teams: ["Tiimit", "Team", "Teams"],
  field_capacity: ["Kapasiteetti (yhtäaikaiset keskustelut, 1–20)", "Kapacitet (samtidiga samtal, 1–20)", "Capacity (conversations at once, 1–20)"],
  field_password: ["Alkusalasana", "Startlösenord", "Initial password"],
  field_new_password: ["Uusi salasana", "Nytt lösenord", "New password"],
  field_current_password: ["Nykyinen salasana", "Nuvarande lösenord", "Current password"],
  field_active: ["Tili käytössä", "Kontot är aktivt", "Account active"],
  field_active_hint: [
    "Käytöstä poistaminen päättää käyttäjän istunnot.",
    "Att inaktivera kontot avslutar användarens sessioner.",
    "Deactivating ends the user's sessions."
  ],
  password_hint: [
    "Vähintään 12 merkkiä, ei sama kuin käyttäjätunnus.",
    "Minst 12 tecken, inte samma som användarnamnet.",
    "At least 12 characters, not the user name."
  ],
  no_teams: ["Tiimejä ei ole.", "Det finns inga team.", "There are no teams."],
  add_user: ["Lisää käyttäjä", "Lägg till användare", "Add user"],
  user_added: ["Käyttäjä {name} lisätty.", "Användaren {name} har lagts till.", "User {name} added."],
  user_saved: ["Käyttäjän {name} tiedot tallennettu.", "Uppgifterna för {name} har sparats.", "Changes to {name} saved."],
  user_unlocked: ["Käyttäjän {name} lukitus poistettu.", "Användaren {name} har låsts upp.", "{name} unlocked."],
  password_reset_done: [
    "Käyttäjän {name} salasana vaihdettu. Hänen istuntonsa päättyivät.",
    "Lösenordet för {name} har bytts. Användarens sessioner har avslutats.",
    "Password of {name} changed. Their sessions have ended."
  ],
  edit_user_title: ["Muokkaa käyttäjää {name}", "Redigera användaren {name}", "Edit {name}"],
  reset_title: ["Uusi salasana käyttäjälle {name}", "Nytt lösenord för {name}", "New password for {name}"],
  reset_text: [
    "Uusi salasana päättää käyttäjän kaikki istunnot. Kerro salasana hänelle turvallista reittiä.",
    "Ett nytt lösenord avslutar alla användarens sessioner. Ge lösenordet till användaren på ett säkert sätt.",
    "A new password ends all of the user's sessions. Give it to them by a safe route."
  ],
  password_title: ["Vaihda oma salasanasi", "Byt ditt lösenord", "Change your password"],
  password_text: [
    "Muut istuntosi päättyvät, kun salasana vaihtuu.",
    "Dina andra sessioner avslutas när lösenordet byts.",
    "Your other sessions end when the password changes."
  ],
  password_changed: ["Salasana vaihdettu.", "Lösenordet har bytts.", "Password changed."],
  self_suffix: ["(sinä)", "(du)", "(you)"],

  // --- audit -----------------------------------------------------------------------------------
  audit_title: ["Käyttöloki", "Händelselogg", "Audit log"],
  audit_caption: ["Lokitapahtumat, uusin ensin", "Logghändelser, nyaste först", "Log entries, newest first"],
  audit_filters: ["Rajaa lokia", "Filtrera loggen", "Filter the log"],
  filter_advisor: ["Käyttäjä", "Användare", "User"],
  all_advisors: ["Kaikki käyttäjät", "Alla användare", "All users"],
  filter_conversation: ["Keskustelun tunniste", "Samtalets id", "Conversation id"],
  filter_apply: ["Rajaa", "Filtrera", "Filter"],
  filter_clear: ["Tyhjennä rajaus", "Rensa filtret", "Clear filter"],
  filter_by_conversation: ["Rajaa keskusteluun {id}", "Filtrera på samtalet {id}", "Filter by conversation {id}"],
  col_time: ["Aika", "Tid", "Time"],
  col_advisor: ["Käyttäjä", "Användare", "User"],
  col_action: ["Tapahtuma", "Händelse", "Action"],
  col_conversation: ["Keskustelu", "Samtal", "Conversation"],
  col_details: ["Lisätiedot", "Detaljer", "Details"],
  load_more: ["Lataa lisää", "Ladda fler", "Load more"],
  audit_empty: ["Lokissa ei ole tapahtumia.", "Loggen har inga händelser.", "No log entries."],
  audit_loaded: ["{n} tapahtumaa lisää ladattu.", "{n} händelser till har laddats.", "{n} more entries loaded."],
  audit_no_more: ["Kaikki tapahtumat on ladattu.", "Alla händelser har laddats.", "All entries are loaded."],
  system: ["Järjestelmä", "Systemet", "System"],
  action_login: ["Kirjautuminen", "Inloggning", "Sign-in"],
  action_login_failed: ["Epäonnistunut kirjautuminen", "Misslyckad inloggning", "Failed sign-in"],
  action_logout: ["Uloskirjautuminen", "Utloggning", "Sign-out"],
  action_transcript_read: ["Keskustelun luku", "Läsning av samtal", "Transcript read"],
  action_claim: ["Otti hoitoon", "Tog emot", "Claimed"],
  action_reply: ["Vastasi", "Svarade", "Replied"],
  action_note: ["Muistiinpano", "Anteckning", "Note"],
  action_transfer: ["Siirto", "Överföring", "Transfer"],
  action_release: ["Palautus botille", "Återförd till boten", "Returned to bot"],
  action_close: ["Päättäminen", "Avslutning", "Closed"],
  action_answer_message: ["Vastaus jätettyyn viestiin", "Svar på lämnat meddelande", "Answered a left message"],
  action_auto_return: ["Automaattinen palautus jonoon", "Automatiskt tillbaka till kön", "Automatic return to the queue"],
  action_user_create: ["Käyttäjän lisäys", "Ny användare", "User added"],
  action_user_update: ["Käyttäjän muutos", "Ändrad användare", "User changed"],
  action_password_change: ["Salasanan vaihto", "Byte av lösenord", "Password changed"],
  action_unlock: ["Lukituksen poisto", "Upplåsning", "Unlocked"],
  action_locked: ["Tilin lukitus", "Kontot låst", "Account locked"],

  // --- content ---------------------------------------------------------------------------------
  content_title: ["Sisällön tila", "Innehållets status", "Content status"],
  content_counts: ["Määrät", "Antal", "Counts"],
  count_intents: ["Aikeet (intentit)", "Avsikter (intents)", "Intents"],
  count_examples: ["Esimerkkilauseet", "Exempelmeningar", "Example phrases"],
  count_canned: ["Valmiit vastaukset", "Färdiga svar", "Canned responses"],
  problems_heading: ["Havaitut ongelmat", "Upptäckta problem", "Problems found"],
  problems_caption: ["Sisältötiedostojen ongelmat", "Problem i innehållsfilerna", "Problems in the content files"],
  no_problems: ["Ongelmia ei löytynyt.", "Inga problem hittades.", "No problems found."],
  col_severity: ["Vakavuus", "Allvarlighetsgrad", "Severity"],
  col_where: ["Tiedosto:rivi", "Fil:rad", "File:line"],
  col_message: ["Kuvaus", "Beskrivning", "Message"],
  severity_error: ["Virhe", "Fel", "Error"],
  severity_warning: ["Varoitus", "Varning", "Warning"],
  severity_info: ["Tieto", "Information", "Info"],

  // --- field names (for "check the field" messages) ---------------------------------------
  fieldname_name: ["käyttäjätunnus", "användarnamn", "user name"],
  fieldname_display_name: ["näyttönimi", "visningsnamn", "display name"],
  fieldname_role: ["rooli", "roll", "role"],
  fieldname_teams: ["tiimit", "team", "teams"],
  fieldname_capacity: ["kapasiteetti", "kapacitet", "capacity"],
  fieldname_password: ["salasana", "lösenord", "password"],
  fieldname_text: ["teksti", "text", "text"],
  fieldname_note: ["muistiinpano", "anteckning", "note"],
  fieldname_outcome: ["lopputulos", "resultat", "outcome"],
  fieldname_service: ["palvelu", "tjänst", "service"],
  fieldname_team: ["tiimi", "team", "team"],
  fieldname_advisor: ["neuvoja", "rådgivare", "advisor"],
  fieldname_language: ["kieli", "språk", "language"],
  fieldname_current: ["nykyinen salasana", "nuvarande lösenord", "current password"],
  fieldname_new: ["uusi salasana", "nytt lösenord", "new password"],

  // --- errors (one per code in docs/console-api.md, and a few of the browser's own) -------
  err_bad_request: ["Pyyntö oli virheellinen.", "Begäran var felaktig.", "The request was not valid."],
  err_bad_request_field: ["Tarkista kenttä: {field}.", "Kontrollera fältet: {field}.", "Check the field: {field}."],
  err_too_long: ["Teksti on liian pitkä. Lyhennä sitä.", "Texten är för lång. Korta av den.", "The text is too long. Please shorten it."],
  err_unauthenticated: ["Istunto päättyi. Kirjaudu uudelleen.", "Sessionen har upphört. Logga in igen.", "Session ended. Please sign in again."],
  err_invalid_credentials: ["Väärä käyttäjätunnus tai salasana.", "Fel användarnamn eller lösenord.", "Wrong user name or password."],
  err_csrf: [
    "Istunnon suojaustunnus ei kelvannut. Lataa sivu uudelleen.",
    "Sessionens skyddstoken godtogs inte. Ladda om sidan.",
    "The session's security token was refused. Please reload the page."
  ],
  err_forbidden: ["Sinulla ei ole oikeutta tähän.", "Du har inte behörighet till detta.", "You are not allowed to do this."],
  err_not_found: [
    "Ei löytynyt. Keskustelu tai käyttäjä on ehkä poistettu.",
    "Hittades inte. Samtalet eller användaren kan ha tagits bort.",
    "Not found. The conversation or user may have been deleted."
  ],
  err_already_claimed: ["Keskustelun otti jo {by}.", "Samtalet har redan tagits av {by}.", "Already taken by {by}."],
  err_already_claimed_someone: ["Toinen neuvoja otti keskustelun jo.", "En annan rådgivare har redan tagit samtalet.", "Another advisor has already taken it."],
  err_at_capacity: [
    "Sinulla on jo niin monta keskustelua kuin kapasiteettisi sallii.",
    "Du har redan så många samtal som din kapacitet tillåter.",
    "You already hold as many conversations as your capacity allows."
  ],
  err_at_capacity_transfer: [
    "Vastaanottajalla ei ole tilaa uudelle keskustelulle.",
    "Mottagaren har inte plats för ett nytt samtal.",
    "The receiver has no room for another conversation."
  ],
  err_not_yours: ["Keskustelu ei ole sinun hoidossasi.", "Du sköter inte det här samtalet.", "You do not hold this conversation."],
  err_wrong_state: [
    "Keskustelun tila on muuttunut, joten toimintoa ei voitu tehdä.",
    "Samtalets läge har ändrats, så åtgärden kunde inte göras.",
    "The conversation's state has changed, so this could not be done."
  ],
  err_locked: [
    "Tili on lukittu liian monen väärän salasanan vuoksi. Yritä uudelleen {minutes} min kuluttua.",
    "Kontot är låst efter för många felaktiga lösenord. Försök igen om {minutes} min.",
    "The account is locked after too many wrong passwords. Try again in {minutes} min."
  ],
  err_rate_limited: [
    "Liian monta kirjautumisyritystä tästä osoitteesta. Yritä uudelleen {minutes} min kuluttua.",
    "För många inloggningsförsök härifrån. Försök igen om {minutes} min.",
    "Too many sign-in attempts from here. Try again in {minutes} min."
  ],
  err_exists: ["Käyttäjätunnus on jo käytössä.", "Användarnamnet används redan.", "This user name is already taken."],
  err_required: ["Täytä tämä kenttä.", "Fyll i det här fältet.", "Fill in this field."],
  err_capacity: ["Anna kokonaisluku 1–20.", "Ange ett heltal 1–20.", "Enter a whole number from 1 to 20."],
  err_password_rules: [
    "Salasanassa on oltava vähintään 12 merkkiä, eikä se saa olla sama kuin käyttäjätunnus.",
    "Lösenordet måste ha minst 12 tecken och får inte vara samma som användarnamnet.",
    "The password needs at least 12 characters and must not be the user name."
  ],
  err_wrong_current: ["Nykyinen salasana on väärä.", "Det nuvarande lösenordet är fel.", "The current password is wrong."],
  err_field_invalid: ["Tarkista tämä kenttä.", "Kontrollera det här fältet.", "Check this field."],
  err_network: [
    "Palvelimeen ei saatu yhteyttä. Tarkista verkkoyhteys ja yritä uudelleen.",
    "Servern kunde inte nås. Kontrollera nätverket och försök igen.",
    "Could not reach the server. Check the network and try again."
  ],
  err_server: [
    "Palvelimella tapahtui virhe. Yritä hetken kuluttua uudelleen.",
    "Ett fel uppstod på servern. Försök igen om en stund.",
    "The server had a problem. Try again in a moment."
  ],
  err_unexpected: ["Odottamaton virhe. Yritä uudelleen.", "Oväntat fel. Försök igen.", "Unexpected error. Please try again."],
  ws_err_forbidden: [
    "Sinulla ei ole oikeutta seurata tätä keskustelua.",
    "Du har inte behörighet att följa det här samtalet.",
    "You are not allowed to follow this conversation."
  ],
  ws_err_bad_frame: [
    "Palvelin hylkäsi pyynnön. Lataa sivu uudelleen, jos ongelma jatkuu.",
    "Servern avvisade begäran. Ladda om sidan om problemet kvarstår.",
    "The server refused a request. Reload the page if this keeps happening."
  ]
};

function build() {
  const strings = { fi: {}, sv: {}, en: {} };
  for (const [key, values] of Object.entries(TEXTS)) {
    LANGUAGES.forEach((language, index) => { strings[language][key] = values[index]; });
  }
  return strings;
}

/** The strings by language: STRINGS.fi.product and so on. */
export const STRINGS = build();

/** A supported language for any value ("sv-FI" → "sv"), or null. */
export function pickLanguage(value) {
  const code = String(value || "").slice(0, 2).toLowerCase();
  return LANGUAGES.includes(code) ? code : null;
}

/** True when the key has a string. */
export function hasString(key) {
  return Object.prototype.hasOwnProperty.call(STRINGS.en, key);
}

/**
 * The string for key in language, with {placeholders} replaced by params.
 * Falls back to English, then to `fallback` (or the key itself).
 */
export function translate(language, key, params, fallback) {
  const table = STRINGS[language] || STRINGS.fi;
  let text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : STRINGS.en[key];
  if (text === undefined) { return fallback === undefined ? key : fallback; }
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(params, name) && params[name] !== null && params[name] !== undefined
        ? String(params[name]) : whole);
  }
  return text;
}
