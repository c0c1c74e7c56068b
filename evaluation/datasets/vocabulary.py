"""Word lists of the generated evaluation sets: names, nicknames, towns, occupations, counterparties.

Lists run from the most common value to the rarest: the builders draw with Zipf-like weights, so
common names and towns repeat (term frequencies matter) and rare ones are near-unique.
"""


def _words(text: str) -> tuple[str, ...]:
    """The words of a text, each once, in order."""
    return tuple(dict.fromkeys(text.split()))


MALE_NAMES = _words(
    """
john william thomas george james richard henry robert charles edward joseph samuel francis
benjamin peter daniel edmund walter hugh arthur frederick alfred matthew nicholas ralph roger
stephen christopher anthony michael david philip andrew alexander albert harry herbert ernest
isaac jacob abraham simon timothy nathaniel jonathan lawrence patrick owen evan griffith lewis
humphrey geoffrey gilbert adam martin luke mark paul toby oliver jeremiah josiah zachariah
ebenezer elijah moses aaron reuben levi caleb silas amos enoch gideon jabez obadiah solomon
leonard cecil percy horace herbert bertram clement cuthbert reginald rupert ambrose bartholomew
benedict cornelius crispin dudley everard felix gervase hector ignatius jasper lambert lionel
marmaduke maurice mordecai neville norman osbert oswald piers quentin randolph rowland septimus
sidney theodore tobias valentine vincent wilfred wystan augustus barnaby basil duncan alan
angus archibald colin donald douglas fergus gordon hamish ian kenneth malcolm neil niall
rory stuart wallace eugene louis jean pierre jacques pieter hendrik johann friedrich karl
wilhelm heinrich otto hans carlo giovanni giuseppe luigi antonio francesco pedro juan carlos
miguel diego sven lars nils erik olaf stanislaw jan tomas ferdinand leopold maximilian
"""
)

FEMALE_NAMES = _words(
    """
mary elizabeth ann sarah jane margaret catherine susan martha hannah alice frances eleanor
ellen emma charlotte harriet isabella caroline maria anne esther rebecca lucy dorothy agnes
joan grace emily louisa amelia rachel ruth judith rose matilda clara julia sophia phoebe
priscilla prudence patience mercy honour joanna johanna cecilia beatrice constance edith
florence georgiana henrietta jemima keziah letitia lydia mabel miriam nancy olive penelope
rosamund sybil theodosia ursula violet winifred abigail bridget deborah dinah elspeth euphemia
flora georgina helen ida janet jessie kate leah lilian marion mildred nora ada adelaide
alexandra amy annie barbara bertha blanche christina cordelia delia dora edna ethel eva evelyn
fanny gertrude gwendolen hester hilda irene ivy josephine kathleen laura lavinia lilias
lottie lucinda lucretia madeline marjorie maud millicent muriel nell octavia pamela pauline
philippa rhoda rosalind sabina selina sophronia tabitha thomasina vera victoria wilhelmina
anna marie jeanne marguerite louise francoise johanna katharina margarethe elisabeth ingrid
astrid kirsten maria teresa giulia francesca lucia carmen isabel dolores juana elena
"""
)

SURNAMES = _words(
    """
smith jones williams taylor brown davies evans wilson thomas johnson roberts robinson thompson
wright walker white edwards hughes green hall lewis harris clarke patel jackson wood turner
martin cooper hill ward morris moore clark lee king baker harrison morgan allen james scott
phillips watson davis parker price bennett young griffiths mitchell kelly cook carter richardson
bailey collins bell shaw murphy miller cox richards khan marshall anderson simpson ellis adams
singh begum wilkinson foster chapman powell webb rogers gray mason ali hunt hussain campbell
matthews owen palmer holmes mills barnes knight lloyd butler russell barker fisher stevens
jenkins murray dixon harvey graham pearson ahmed fletcher walsh kaur gibson howard andrews
stewart elliott reynolds saunders payne fox ford pearce day brooks west lawrence cole atkinson
bradley spencer gill dawson ball burton obrien watts rose booth perry ryan grant wells armstrong
francis rees hayes hart hudson newman barrett webster hunter gregory carr lowe page marsh riley
dunn woods parsons berry stone reid holland hawkins harding porter robertson newton oliver
reed kennedy williamson bird gardner shah dean lane cooke bates henderson parry burgess bishop
walton burns nicholson shepherd ross cross long freeman warren nicholls hamilton byrne sutton
mcdonald yates hodgson robson curtis hopkins oconnor harper coleman watkins moss mccarthy
chambers o'neill griffin sharp hardy wheeler potter osborne johnston gordon doyle wallace
george jordan hutchinson rowe burke may pritchard gilbert willis higgins read miles stevenson
stephenson hammond arnold buckley walters hewitt barber nelson slater austin sullivan whitehead
mann frost lambert stephens blake akhtar lynch goodwin barton woodward thomson cunningham
quinn barnett baxter bibi clayton nash greenwood jennings holt kemp poole gallagher bond
stokes tucker davidson fowler heath norman middleton lawson banks french stanley jarvis gibbs
ferguson hayward carpenter cartwright ashworth ackroyd blackwood bradshaw brocklehurst
catterall cholmondeley crabtree dalrymple drinkwater entwistle fairbairn featherstone
fitzwilliam gascoigne greathead haworth hepplewhite higginbottom ingleby kirkpatrick
lockwood longbottom mainwaring micklethwaite nettleship ormerod pemberton postlethwaite
ramsbottom rawlinson shuttleworth sidebottom throckmorton tunnicliffe umfreville vavasour
wainwright warburton whitworth winterbottom wolstenholme wrigglesworth
"""
)

# Nicknames and abbreviations of given names, as parish clerks and census enumerators wrote them.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "william": ("will", "bill", "billy", "wm"),
    "john": ("jack", "johnny", "jno"),
    "thomas": ("tom", "thos", "tommy"),
    "james": ("jim", "jas", "jamie"),
    "robert": ("bob", "rob", "bert"),
    "richard": ("dick", "rich", "richd"),
    "charles": ("charlie", "chas"),
    "henry": ("harry", "hal", "hy"),
    "edward": ("ted", "ned", "edw"),
    "joseph": ("joe", "jos"),
    "george": ("geo",),
    "samuel": ("sam", "saml"),
    "frederick": ("fred", "fredk"),
    "alexander": ("alex", "sandy"),
    "benjamin": ("ben", "benj"),
    "daniel": ("dan",),
    "matthew": ("matt",),
    "nicholas": ("nick",),
    "anthony": ("tony",),
    "christopher": ("kit", "chris"),
    "walter": ("wat", "walt"),
    "albert": ("bert",),
    "alfred": ("alf", "alfie"),
    "lawrence": ("larry",),
    "edmund": ("ned",),
    "patrick": ("pat", "paddy"),
    "michael": ("mick", "mike"),
    "peter": ("pete",),
    "philip": ("phil",),
    "stephen": ("steve",),
    "timothy": ("tim",),
    "theodore": ("theo",),
    "elizabeth": ("eliza", "betty", "bess", "lizzie", "eliz"),
    "margaret": ("peggy", "maggie", "meg", "margt"),
    "mary": ("polly", "molly", "mae"),
    "catherine": ("kate", "kitty", "cath"),
    "ann": ("annie", "nan"),
    "sarah": ("sally", "sal"),
    "susan": ("sue", "susie"),
    "frances": ("fanny",),
    "dorothy": ("dolly", "dot"),
    "martha": ("patty", "mattie"),
    "eleanor": ("nell", "nelly"),
    "helen": ("nell",),
    "jane": ("jenny", "jennie"),
    "abigail": ("abby",),
    "rebecca": ("becky",),
    "isabella": ("bella", "isabel"),
    "hannah": ("nan",),
    "harriet": ("hattie",),
    "charlotte": ("lottie",),
    "caroline": ("carrie",),
    "alice": ("allie",),
    "florence": ("flo", "florrie"),
    "matilda": ("tilly", "maud"),
    "christina": ("tina", "chrissie"),
    "wilhelmina": ("mina", "minnie"),
    "johanna": ("hanna",),
}

# Towns and the postcode area of each (UK outward codes begin with these letters).
TOWNS: tuple[tuple[str, str], ...] = (
    ("london", "SW"),
    ("london", "N"),
    ("london", "E"),
    ("london", "SE"),
    ("london", "NW"),
    ("london", "W"),
    ("manchester", "M"),
    ("liverpool", "L"),
    ("birmingham", "B"),
    ("leeds", "LS"),
    ("bristol", "BS"),
    ("sheffield", "S"),
    ("edinburgh", "EH"),
    ("glasgow", "G"),
    ("york", "YO"),
    ("norwich", "NR"),
    ("bath", "BA"),
    ("oxford", "OX"),
    ("cambridge", "CB"),
    ("exeter", "EX"),
    ("plymouth", "PL"),
    ("newcastle upon tyne", "NE"),
    ("nottingham", "NG"),
    ("leicester", "LE"),
    ("coventry", "CV"),
    ("hull", "HU"),
    ("bradford", "BD"),
    ("cardiff", "CF"),
    ("swansea", "SA"),
    ("aberdeen", "AB"),
    ("dundee", "DD"),
    ("belfast", "BT"),
    ("dublin", "D"),
    ("canterbury", "CT"),
    ("brighton", "BN"),
    ("portsmouth", "PO"),
    ("southampton", "SO"),
    ("reading", "RG"),
    ("ipswich", "IP"),
    ("colchester", "CO"),
    ("chester", "CH"),
    ("lincoln", "LN"),
    ("derby", "DE"),
    ("stoke-on-trent", "ST"),
    ("wolverhampton", "WV"),
    ("worcester", "WR"),
    ("gloucester", "GL"),
    ("hereford", "HR"),
    ("shrewsbury", "SY"),
    ("carlisle", "CA"),
    ("lancaster", "LA"),
    ("preston", "PR"),
    ("blackburn", "BB"),
    ("bolton", "BL"),
    ("oldham", "OL"),
    ("wigan", "WN"),
    ("warrington", "WA"),
    ("stockport", "SK"),
    ("huddersfield", "HD"),
    ("halifax", "HX"),
    ("wakefield", "WF"),
    ("doncaster", "DN"),
    ("durham", "DH"),
    ("sunderland", "SR"),
    ("darlington", "DL"),
    ("middlesbrough", "TS"),
    ("harrogate", "HG"),
    ("salisbury", "SP"),
    ("winchester", "SO"),
    ("dorchester", "DT"),
    ("taunton", "TA"),
    ("truro", "TR"),
    ("torquay", "TQ"),
    ("northampton", "NN"),
    ("peterborough", "PE"),
    ("bedford", "MK"),
    ("luton", "LU"),
    ("st albans", "AL"),
    ("chelmsford", "CM"),
    ("guildford", "GU"),
    ("maidstone", "ME"),
    ("tunbridge wells", "TN"),
    ("croydon", "CR"),
    ("kingston upon thames", "KT"),
    ("harrow", "HA"),
    ("enfield", "EN"),
    ("romford", "RM"),
    ("slough", "SL"),
    ("swindon", "SN"),
    ("cheltenham", "GL"),
    ("stafford", "ST"),
    ("walsall", "WS"),
    ("dudley", "DY"),
    ("kidderminster", "DY"),
    ("banbury", "OX"),
    ("witney", "OX"),
    ("kendal", "LA"),
    ("whitby", "YO"),
    ("scarborough", "YO"),
    ("beverley", "HU"),
    ("grimsby", "DN"),
    ("boston", "PE"),
    ("king's lynn", "PE"),
    ("great yarmouth", "NR"),
    ("bury st edmunds", "IP"),
    ("falmouth", "TR"),
    ("penzance", "TR"),
    ("barnstaple", "EX"),
    ("newport", "NP"),
    ("wrexham", "LL"),
    ("bangor", "LL"),
    ("inverness", "IV"),
    ("perth", "PH"),
    ("stirling", "FK"),
    ("paisley", "PA"),
    ("ayr", "KA"),
    ("dumfries", "DG"),
    ("kirkcaldy", "KY"),
    ("galashiels", "TD"),
    ("derry", "BT"),
    ("armagh", "BT"),
    ("macclesfield", "SK"),
    ("burnley", "BB"),
    ("rochdale", "OL"),
    ("keighley", "BD"),
    ("rotherham", "S"),
    ("barnsley", "S"),
    ("chesterfield", "S"),
    ("mansfield", "NG"),
    ("newark-on-trent", "NG"),
    ("loughborough", "LE"),
    ("rugby", "CV"),
    ("warwick", "CV"),
    ("stratford-upon-avon", "CV"),
    ("evesham", "WR"),
    ("ludlow", "SY"),
)

# Spellings of a town that records use besides the standard one.
TOWN_VARIANTS: dict[str, tuple[str, ...]] = {
    "st albans": ("saint albans", "st. albans"),
    "bury st edmunds": ("bury saint edmunds", "st edmundsbury"),
    "newcastle upon tyne": ("newcastle", "newcastle-upon-tyne"),
    "kingston upon thames": ("kingston", "kingston-upon-thames"),
    "stoke-on-trent": ("stoke", "stoke on trent"),
    "king's lynn": ("kings lynn", "lynn"),
    "stratford-upon-avon": ("stratford", "stratford upon avon"),
    "newark-on-trent": ("newark",),
    "derry": ("londonderry",),
    "hull": ("kingston upon hull",),
    "great yarmouth": ("yarmouth",),
    "london": ("city of london", "westminster"),
}

# Occupations, most common first, each with the other ways records write it.
OCCUPATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("agricultural labourer", ("ag lab", "farm labourer", "labourer")),
    ("politician", ("member of parliament", "statesman")),
    ("painter", ("artist painter", "artist", "portrait painter")),
    ("writer", ("author", "novelist")),
    ("priest", ("clergyman", "clerk in holy orders", "vicar")),
    ("military officer", ("army officer", "officer")),
    ("domestic servant", ("servant", "housemaid")),
    ("farmer", ("yeoman", "husbandman")),
    ("merchant", ("trader", "merchant trader")),
    ("physician", ("doctor", "medical practitioner")),
    ("lawyer", ("solicitor", "attorney")),
    ("weaver", ("cotton weaver", "silk weaver")),
    ("coal miner", ("miner", "collier")),
    ("shoemaker", ("cordwainer", "boot maker")),
    ("carpenter", ("joiner", "carpenter and joiner")),
    ("blacksmith", ("smith", "farrier")),
    ("tailor", ("tailoress",)),
    ("dressmaker", ("seamstress", "milliner")),
    ("teacher", ("schoolmaster", "schoolmistress")),
    ("composer", ("musician",)),
    ("poet", ("poet and writer",)),
    ("naval officer", ("royal navy officer", "captain rn")),
    ("engineer", ("civil engineer", "mechanical engineer")),
    ("architect", ("surveyor",)),
    ("sculptor", ("stone carver",)),
    ("actor", ("stage actor", "comedian")),
    ("singer", ("vocalist",)),
    ("banker", ("bank clerk",)),
    ("clerk", ("commercial clerk", "clerk in office")),
    ("mariner", ("sailor", "seaman")),
    ("innkeeper", ("publican", "victualler")),
    ("baker", ("baker and confectioner",)),
    ("butcher", ("slaughterman",)),
    ("grocer", ("grocer and draper", "shopkeeper")),
    ("mason", ("stonemason", "bricklayer")),
    ("printer", ("compositor",)),
    ("cricketer", ("professional cricketer",)),
    ("footballer", ("association football player",)),
    ("journalist", ("newspaper editor", "reporter")),
    ("historian", ("antiquary",)),
    ("botanist", ("naturalist",)),
    ("chemist", ("druggist", "chemist and druggist")),
    ("mathematician", ("astronomer",)),
    ("philosopher", ("scholar",)),
    ("judge", ("magistrate",)),
    ("diplomat", ("ambassador",)),
    ("landowner", ("gentleman", "landed proprietor")),
    ("nurse", ("sick nurse",)),
    ("governess", ("tutor",)),
    ("cooper", ("barrel maker",)),
    ("wheelwright", ("cartwright",)),
    ("miller", ("corn miller",)),
    ("brewer", ("maltster",)),
    ("potter", ("earthenware maker",)),
    ("glover", ("glove maker",)),
    ("saddler", ("harness maker",)),
    ("watchmaker", ("clockmaker",)),
    ("bookseller", ("stationer",)),
    ("lace maker", ("lacemaker",)),
    ("spinner", ("cotton spinner",)),
    ("fisherman", ("fisher",)),
    ("gardener", ("nurseryman",)),
    ("coachman", ("groom",)),
    ("laundress", ("washerwoman",)),
    ("photographer", ("photographic artist",)),
    ("industrialist", ("manufacturer", "mill owner")),
    ("explorer", ("traveller",)),
    ("missionary", ("minister",)),
    ("organist", ("church organist",)),
    ("surgeon", ("surgeon apothecary",)),
)

# Counterparties of the transaction set: how the bank's statement names them, how the ledger names
# them, the ledger's category words, the payment channel (card, paypal, dd: direct debit, fps: faster
# payment, bgc: bank giro credit), how often (monthly: one fixed payment a month, else the relative
# number per day) and the amounts (monthly: the fixed amount; a tuple: typical prices; a range: lo, hi).
# A positive amount is money in.
COUNTERPARTIES: tuple[tuple[str, str, str, str, str | float, float | tuple[float, ...] | range], ...] = (
    ("NETFLIX.COM", "Netflix", "subscription", "card", "monthly", -10.99),
    ("SPOTIFY P0", "Spotify", "music subscription", "card", "monthly", -11.99),
    ("AMAZON PRIME*", "Amazon Prime", "membership", "card", "monthly", -8.99),
    ("DISNEY PLUS", "Disney+", "subscription", "card", "monthly", -7.99),
    ("APPLE.COM/BILL", "Apple iCloud", "storage", "card", "monthly", -2.99),
    ("GUARDIAN NEWS", "The Guardian", "newspaper subscription", "card", "monthly", -10.00),
    ("PATREON* MEMBERSHIP", "Patreon", "membership", "paypal", "monthly", -5.00),
    ("PURE GYM LTD", "PureGym", "gym membership", "dd", "monthly", -24.99),
    ("VODAFONE LTD", "Vodafone", "mobile phone", "dd", "monthly", -25.00),
    ("BT GROUP PLC", "BT", "broadband", "dd", "monthly", -32.00),
    ("THAMES WATER", "Thames Water", "water bill", "dd", "monthly", -38.50),
    ("OCTOPUS ENERGY", "Octopus Energy", "electricity and gas", "dd", "monthly", -120.00),
    ("AVIVA INSURANCE", "Aviva", "home insurance", "dd", "monthly", -41.27),
    ("DIRECT LINE INS", "Direct Line", "car insurance", "dd", "monthly", -52.13),
    ("LBH COUNCIL TAX", "Council tax", "council tax", "dd", "monthly", -162.00),
    ("TV LICENCE MBP", "TV Licensing", "tv licence", "dd", "monthly", -13.25),
    ("SCOTTISH WIDOWS", "Scottish Widows", "pension contribution", "dd", "monthly", -100.00),
    ("OXFAM", "Oxfam", "donation", "dd", "monthly", -10.00),
    ("CANCER RESEARCH UK", "Cancer Research UK", "donation", "dd", "monthly", -10.00),
    ("J SMITH LANDLORD", "J Smith", "rent", "fps", "monthly", -1150.00),
    ("ACME CONSULTING LTD", "Acme Consulting", "salary", "bgc", "monthly", 2450.00),
    ("TESCO STORES", "Tesco", "groceries", "card", 1.2, range(4, 95)),
    ("SAINSBURYS S/MKTS", "Sainsbury's", "groceries", "card", 0.8, range(4, 110)),
    ("ALDI STORES", "Aldi", "groceries", "card", 0.5, range(5, 70)),
    ("LIDL GB", "Lidl", "groceries", "card", 0.4, range(5, 60)),
    ("CO-OP GROUP FOOD", "Co-op", "groceries", "card", 0.6, range(2, 30)),
    ("M&S SIMPLY FOOD", "M&S food", "groceries", "card", 0.3, range(3, 45)),
    ("PRET A MANGER", "Pret", "coffee", "card", 0.5, (3.20, 3.45, 4.50, 6.95, 7.75)),
    ("COSTA COFFEE", "Costa", "coffee", "card", 0.4, (2.95, 3.25, 3.60, 5.40)),
    ("STARBUCKS", "Starbucks", "coffee", "card", 0.3, (3.15, 3.45, 3.95)),
    ("GREGGS PLC", "Greggs", "lunch", "card", 0.3, (1.20, 2.35, 3.50, 4.25)),
    ("TFL TRAVEL CH", "TfL", "travel", "card", 0.6, (2.80, 5.60, 8.10, 8.50)),
    ("TRAINLINE.COM", "Trainline", "train tickets", "card", 0.15, range(8, 150)),
    ("UBER *TRIP", "Uber", "taxi", "card", 0.2, range(6, 40)),
    ("DELIVEROO", "Deliveroo", "takeaway", "card", 0.2, range(12, 45)),
    ("JUST EAT.CO.UK", "Just Eat", "takeaway", "card", 0.15, range(12, 45)),
    ("AMAZON.CO.UK*", "Amazon", "online shopping", "card", 0.5, range(3, 200)),
    ("AMZNMKTPLACE", "Amazon Marketplace", "online shopping", "card", 0.3, range(3, 120)),
    ("STEAMGAMES", "Steam games", "purchase", "paypal", 0.1, (4.99, 9.99, 14.99, 19.99, 39.99)),
    ("EBAY", "eBay", "purchase", "paypal", 0.15, range(3, 150)),
    ("ETSY", "Etsy", "purchase", "paypal", 0.08, range(5, 80)),
    ("SHELL", "Shell", "fuel", "card", 0.12, range(20, 80)),
    ("BP", "BP", "fuel", "card", 0.1, range(20, 80)),
    ("BOOTS", "Boots", "pharmacy", "card", 0.2, range(2, 40)),
    ("WHSMITH", "WHSmith", "books and stationery", "card", 0.1, range(2, 30)),
    ("JOHN LEWIS", "John Lewis", "household", "card", 0.05, range(10, 300)),
    ("IKEA LTD", "IKEA", "furniture", "card", 0.03, range(10, 400)),
    ("ARGOS LTD", "Argos", "household", "card", 0.06, range(5, 150)),
    ("WETHERSPOON", "Wetherspoons", "pub", "card", 0.2, range(3, 40)),
    ("THE RED LION", "Red Lion", "pub", "card", 0.15, range(4, 60)),
    ("CINEWORLD", "Cineworld", "cinema", "card", 0.05, (8.50, 11.20, 17.00, 22.40)),
    ("AMAZON.CO.UK REFUND", "Amazon", "refund", "card", 0.05, range(3, 120)),
)

# People the account holder sends money to (faster payments of round amounts): (initial, family
# name, given name), and what the ledger says they were for.
PAYEES: tuple[tuple[str, str, str], ...] = (
    ("D", "JONES", "David"),
    ("S", "PATEL", "Sunita"),
    ("M", "WILLIAMS", "Mark"),
    ("K", "BROWN", "Kate"),
    ("A", "TAYLOR", "Anna"),
    ("R", "KHAN", "Rashid"),
    ("J", "WILSON", "James"),
    ("L", "EVANS", "Laura"),
    ("P", "MURPHY", "Patrick"),
    ("C", "OKAFOR", "Chidi"),
    ("E", "NOWAK", "Ewa"),
    ("T", "SMITH", "Tom"),
)
TRANSFER_PURPOSES = (
    "gift",
    "dinner",
    "rent share",
    "loan repayment",
    "football",
    "holiday",
    "tickets",
    "bills",
)
TRANSFER_AMOUNTS = (10.0, 20.0, 20.0, 25.0, 30.0, 40.0, 50.0, 50.0, 100.0, 150.0, 200.0)
STATEMENT_TOWNS = ("LONDON", "LONDON", "LONDON", "CROYDON", "READING", "BRIGHTON", "OXFORD")
