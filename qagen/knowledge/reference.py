"""Reference passages for the dense relevance floor: everyday text on no school subject.

Embedding models give every query a baseline similarity to any text at all, and that
baseline differs from query to query and from language to language (multilingual-e5-small:
an English question about photosynthesis reaches cosine 0.84 with statistics notes, a Hindi
question that the notes do answer 0.82). So the dense floor is a margin over the query's
mean similarity to these passages, measured in the same vector space: a notes passage must
be clearly closer to the question than ordinary prose is (qagen.knowledge.index,
DENSE_MIN_MARGIN). Their mean vector is computed when an index is built and stored in it.

Written for qagen; changing them changes the floor of indexes built afterwards only.
"""

from __future__ import annotations

REFERENCE_PASSAGES = (
    "The recipe begins by softening the butter and beating it with sugar until pale. Eggs are added one at a time, "
    "then the flour is folded in gently so the cake stays light. Bake for forty minutes and let it cool before "
    "slicing.",
    "The match ended in a draw after the home side equalised in the final minute. Their coach praised the defence "
    "but said the team must take more of its chances in front of goal next week.",
    "The treaty was signed after months of negotiation between the two kingdoms. It fixed the border along the "
    "river, returned the captured towns and promised that merchants of both countries could trade freely.",
    "Our hotel was a short walk from the old harbour. In the mornings we took the ferry to the islands, swam in "
    "clear water and ate grilled fish in small family restaurants.",
    "To reset the router, hold the button on the back for ten seconds until the lights flash. Then connect to the "
    "default network and open the setup page in your browser to choose a new password.",
    "The poem describes an autumn evening in the village: smoke rising from the chimneys, leaves on the wet road, "
    "and an old man walking home slowly from the fields.",
    "Regular exercise strengthens the heart and lungs, helps control weight and improves sleep. Adults are advised "
    "to do at least 150 minutes of moderate activity every week.",
    "The company reported higher profits this quarter, driven by strong sales in Asia. Its shares rose after the "
    "announcement, although analysts warned that costs for raw materials are still increasing.",
    "Tenants must give one month's written notice before leaving the flat. The deposit is returned within fourteen "
    "days, minus the cost of repairing any damage beyond normal wear.",
    "The orchestra opened the concert with an overture, followed by a violin concerto. After the interval the "
    "audience heard a long symphony that ended with a loud and joyful finale.",
    "Tomatoes grow best in full sun and well-drained soil. Water them deeply twice a week, tie the stems to stakes, "
    "and pick the fruit when it is evenly red.",
    "The museum's new exhibition shows paintings, letters and photographs from the artist's early years, when she "
    "lived in a small studio and sold her work at street markets.",
    "Please complete the application form in block capitals and attach two passport photographs. Incomplete "
    "applications will be returned and may delay your appointment.",
    "The storm brought heavy rain and strong winds to the coast overnight. Several roads were closed by fallen "
    "trees, and thousands of homes were left without electricity until the afternoon.",
    "The novel follows a young woman who leaves her family's farm to work in the city. Over ten years she builds a "
    "business, loses it, and returns home with a different view of success.",
    "Our team meets every Monday to plan the week. Each member reports progress on their tasks, raises problems, "
    "and agrees on priorities with the project manager.",
    "The mountain trail climbs steadily through pine forest to a lake below the summit. Hikers should carry water, "
    "warm clothes and a map, because the weather can change quickly.",
    "The city council approved plans for a new library and park in the town centre. Construction will start next "
    "spring and should be finished within two years.",
    "Wash the rice until the water runs clear, then cook it with one and a half cups of water per cup of rice. "
    "Cover the pan and leave it to rest for ten minutes after cooking.",
    "The festival attracts visitors from around the country with music, dancing and food stalls. On the last "
    "night, fireworks are set off over the river at midnight.",
    "Dear customer, your order has been shipped and should arrive within three working days. You can follow the "
    "parcel with the tracking number in this message.",
    "The temple was built in the twelfth century and is famous for its carved stone gateways, which show scenes "
    "from ancient legends, animals and everyday village life.",
    "Good sleep habits include going to bed at the same time each night, avoiding screens before sleeping, and "
    "keeping the bedroom dark, quiet and cool.",
    "The film tells the story of two brothers who open a restaurant together. Critics praised the acting and the "
    "music but found the ending too sentimental.",
    "Farmers in the region grow wheat in winter and rice during the monsoon. Good rainfall this year is expected "
    "to increase the harvest and lower food prices.",
    "The elections will be held in May. Citizens over eighteen can register to vote online or at their local "
    "office, and must bring an identity document on election day.",
    "The dog needs a walk twice a day and enjoys playing with a ball in the garden. Feed it at regular times and "
    "take it to the vet once a year for a check-up.",
    "Learning a musical instrument takes patience. Practising for twenty minutes every day is more useful than a "
    "long session once a week.",
    "The airline has cancelled several flights because of a strike by ground staff. Passengers can rebook free of "
    "charge or ask for a full refund.",
    "The village market opens early on Saturdays. Farmers sell fresh vegetables, cheese, honey and bread, and "
    "there is a stall that repairs shoes and umbrellas.",
)
