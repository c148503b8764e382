S He watche ugly dogs .
A 1 2|||R:SPELL|||watches|||REQUIRED|||-NONE-|||0

S We teach an old artist .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S You buy a cup every week .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Manny girls brings the books .
A 0 1|||R:SPELL|||Many|||REQUIRED|||-NONE-|||0
A 2 3|||R:VERB:SVA|||bring|||REQUIRED|||-NONE-|||0

S He usually buys an ugly doo .
A 5 6|||R:SPELL|||door|||REQUIRED|||-NONE-|||0

S A friend open two cups again .
A 2 3|||R:VERB:SVA|||opens|||REQUIRED|||-NONE-|||0

S Three neighbors usually washes many expensiev balls .
A 3 4|||R:VERB:SVA|||wash|||REQUIRED|||-NONE-|||0
A 5 6|||R:SPELL|||expensive|||REQUIRED|||-NONE-|||0

S I draw two neighbors .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Our doctor brings this cup after work .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The farmers do not carry oranges .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S She is in the romo now .
A 4 5|||R:SPELL|||room|||REQUIRED|||-NONE-|||0

S She runs to the hospita .
A 4 5|||R:SPELL|||hospital|||REQUIRED|||-NONE-|||0

S You plays in the yard on Wednesday .
A 1 2|||R:VERB:SVA|||play|||REQUIRED|||-NONE-|||0

S Our girls is in garden .
A 2 3|||R:VERB:SVA|||are|||REQUIRED|||-NONE-|||0
A 4 4|||M:DET|||the|||REQUIRED|||-NONE-|||0

S You swims in river .
A 1 2|||R:VERB:SVA|||swim|||REQUIRED|||-NONE-|||0
A 3 3|||M:DET|||the|||REQUIRED|||-NONE-|||0

S The neighbor opes this emial in the evening .
A 2 3|||R:SPELL|||opens|||REQUIRED|||-NONE-|||0
A 4 5|||R:SPELL|||email|||REQUIRED|||-NONE-|||0

S The uncles receive a short email .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Tihs sister runs to the the office .
A 0 1|||R:SPELL|||This|||REQUIRED|||-NONE-|||0
A 5 6|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S Women is ready againn .
A 1 2|||R:VERB:SVA|||are|||REQUIRED|||-NONE-|||0
A 3 4|||R:SPELL|||again|||REQUIRED|||-NONE-|||0

S We hlp a freind .
A 1 2|||R:SPELL|||help|||REQUIRED|||-NONE-|||0
A 3 4|||R:SPELL|||friend|||REQUIRED|||-NONE-|||0

S She bringss the balls .
A 1 2|||R:SPELL|||brings|||REQUIRED|||-NONE-|||0

S I open the new book in the evening .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The kind neighbor always helps his angry brother .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Many students swims in the lake .
A 2 3|||R:VERB:SVA|||swim|||REQUIRED|||-NONE-|||0

S Some friends are bored .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Their sisters teach the teacher .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S You usually write their emails .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Your men runs to the school .
A 2 3|||R:VERB:SVA|||run|||REQUIRED|||-NONE-|||0

S I drive to the market evrey morning .
A 5 6|||R:SPELL|||every|||REQUIRED|||-NONE-|||0

S A girl plays in the yadr .
A 5 6|||R:SPELL|||yard|||REQUIRED|||-NONE-|||0

S The children sit on the grass .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Some happy children meet a woman .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S This teachher often watches her sister .
A 1 2|||R:SPELL|||teacher|||REQUIRED|||-NONE-|||0

S They do not teach an engineer .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S We goes to the offcie in the morning .
A 1 2|||R:VERB:SVA|||go|||REQUIRED|||-NONE-|||0
A 4 5|||R:SPELL|||office|||REQUIRED|||-NONE-|||0

S An girl carries the sandwiches today .
A 0 1|||R:DET|||A|||REQUIRED|||-NONE-|||0

S A girl go to the zoo every day .
A 2 3|||R:VERB:SVA|||goes|||REQUIRED|||-NONE-|||0

S An engineer go to the hospital .
A 2 3|||R:VERB:SVA|||goes|||REQUIRED|||-NONE-|||0

S We does not sell her red sandwich after school .
A 1 2|||R:VERB:SVA|||do|||REQUIRED|||-NONE-|||0

S You sometimes reads a letter .
A 2 3|||R:VERB:SVA|||read|||REQUIRED|||-NONE-|||0

S She meet our student .
A 1 2|||R:VERB:SVA|||meets|||REQUIRED|||-NONE-|||0

S They run to the station .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S An young child is at the bank .
A 0 1|||R:DET|||A|||REQUIRED|||-NONE-|||0

S Their man are bored .
A 2 3|||R:VERB:SVA|||is|||REQUIRED|||-NONE-|||0

S I waits for the bus tommorrow .
A 1 2|||R:VERB:SVA|||wait|||REQUIRED|||-NONE-|||0
A 5 6|||R:SPELL|||tomorrow|||REQUIRED|||-NONE-|||0

S I want my letter .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Dotcors often sleep in the garden .
A 0 1|||R:SPELL|||Doctors|||REQUIRED|||-NONE-|||0

S I walk to the station .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S They find a car .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Many girls are at the zoo .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S You does not visit a farmer every day .
A 1 2|||R:VERB:SVA|||do|||REQUIRED|||-NONE-|||0

S I does not write two newspapers after work .
A 1 2|||R:VERB:SVA|||do|||REQUIRED|||-NONE-|||0

S Three girls is at the station .
A 2 3|||R:VERB:SVA|||are|||REQUIRED|||-NONE-|||0

S The aunts is very happy .
A 2 3|||R:VERB:SVA|||are|||REQUIRED|||-NONE-|||0

S The kind aunt want our expensive orange .
A 3 4|||R:VERB:SVA|||wants|||REQUIRED|||-NONE-|||0

S An tall man receives a funny email .
A 0 1|||R:DET|||A|||REQUIRED|||-NONE-|||0

S Womenn cook tehse cheap apples .
A 0 1|||R:SPELL|||Women|||REQUIRED|||-NONE-|||0
A 2 3|||R:SPELL|||these|||REQUIRED|||-NONE-|||0

S Their student swim in the pool again .
A 2 3|||R:VERB:SVA|||swims|||REQUIRED|||-NONE-|||0

S They do not eat the expensive sandwich .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S We teacch the engneer .
A 1 2|||R:SPELL|||teach|||REQUIRED|||-NONE-|||0
A 3 4|||R:SPELL|||engineer|||REQUIRED|||-NONE-|||0

S The student writes your letter again .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S She work at the school .
A 1 2|||R:VERB:SVA|||works|||REQUIRED|||-NONE-|||0

S The boy wait for the the train .
A 2 3|||R:VERB:SVA|||waits|||REQUIRED|||-NONE-|||0
A 5 6|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S We mete a boy .
A 1 2|||R:SPELL|||meet|||REQUIRED|||-NONE-|||0

S An uncle drives to the school today .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The child watch my aunnt at night .
A 2 3|||R:VERB:SVA|||watches|||REQUIRED|||-NONE-|||0
A 4 5|||R:SPELL|||aunt|||REQUIRED|||-NONE-|||0

S The brother live near the market .
A 2 3|||R:VERB:SVA|||lives|||REQUIRED|||-NONE-|||0

S You swim in pool aagin .
A 3 3|||M:DET|||the|||REQUIRED|||-NONE-|||0
A 4 5|||R:SPELL|||again|||REQUIRED|||-NONE-|||0

S Your girl teaches the farmers .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S She drive to the the zoo .
A 1 2|||R:VERB:SVA|||drives|||REQUIRED|||-NONE-|||0
A 4 5|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S The aunts are anggry .
A 3 4|||R:SPELL|||angry|||REQUIRED|||-NONE-|||0

S Two little aunts visits the cihld .
A 3 4|||R:VERB:SVA|||visit|||REQUIRED|||-NONE-|||0
A 5 6|||R:SPELL|||child|||REQUIRED|||-NONE-|||0

S You plays in the yard .
A 1 2|||R:VERB:SVA|||play|||REQUIRED|||-NONE-|||0

S The girl do not read my mssages .
A 2 3|||R:VERB:SVA|||does|||REQUIRED|||-NONE-|||0
A 6 7|||R:SPELL|||messages|||REQUIRED|||-NONE-|||0

S Boys is sick toda .
A 1 2|||R:VERB:SVA|||are|||REQUIRED|||-NONE-|||0
A 3 4|||R:SPELL|||today|||REQUIRED|||-NONE-|||0

S Thsi doctor clenas the cup .
A 0 1|||R:SPELL|||This|||REQUIRED|||-NONE-|||0
A 2 3|||R:SPELL|||cleans|||REQUIRED|||-NONE-|||0

S We always swim in the sea .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S He does not recieve the letters .
A 3 4|||R:SPELL|||receive|||REQUIRED|||-NONE-|||0

S Her teachers writes long newspapers .
A 2 3|||R:VERB:SVA|||write|||REQUIRED|||-NONE-|||0

S A woman is very sick in the evening .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S A doctor works at the station .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S This young farmer are very tried .
A 3 4|||R:VERB:SVA|||is|||REQUIRED|||-NONE-|||0
A 5 6|||R:SPELL|||tired|||REQUIRED|||-NONE-|||0

S These artists are very thirsty .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Her artist receive his newspapers .
A 2 3|||R:VERB:SVA|||receives|||REQUIRED|||-NONE-|||0

S Your child usually work at the market .
A 3 4|||R:VERB:SVA|||works|||REQUIRED|||-NONE-|||0

S The teacher teaches the aunt .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Her little artitss find an letter .
A 2 3|||R:SPELL|||artists|||REQUIRED|||-NONE-|||0
A 4 5|||R:DET|||a|||REQUIRED|||-NONE-|||0

S The girls sell our funny cats afterr school .
A 6 7|||R:SPELL|||after|||REQUIRED|||-NONE-|||0

S Many artists teach an old farmer .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S We cook the cooke every day .
A 3 4|||R:SPELL|||cookie|||REQUIRED|||-NONE-|||0

S Some uncles go to the park again .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Happpy neighbors receives many stories .
A 0 1|||R:SPELL|||Happy|||REQUIRED|||-NONE-|||0
A 2 3|||R:VERB:SVA|||receive|||REQUIRED|||-NONE-|||0

S Neighbors swim in the lake .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The boys lives near the school .
A 2 3|||R:VERB:SVA|||live|||REQUIRED|||-NONE-|||0

S An angry sister sleeps in the garden on Wednesday .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S His little gils do not find my chiars .
A 2 3|||R:SPELL|||girls|||REQUIRED|||-NONE-|||0
A 7 8|||R:SPELL|||chairs|||REQUIRED|||-NONE-|||0

S Brothers is at the station .
A 1 2|||R:VERB:SVA|||are|||REQUIRED|||-NONE-|||0

S A student is ready .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S His old teachers are ready in the the evening .
A 7 8|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S He often swims in the sea .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S He always buy a lette .
A 2 3|||R:VERB:SVA|||buys|||REQUIRED|||-NONE-|||0
A 4 5|||R:SPELL|||letter|||REQUIRED|||-NONE-|||0

S Three old teachers finds the book .
A 3 4|||R:VERB:SVA|||find|||REQUIRED|||-NONE-|||0

S He sleep in the room today .
A 1 2|||R:VERB:SVA|||sleeps|||REQUIRED|||-NONE-|||0

S May kind uncles clean the new window .
A 0 1|||R:SPELL|||Many|||REQUIRED|||-NONE-|||0

S This student has your interesting books every morning .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The tall girl is at the hospital every morning .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S These tall sisters are in the garden .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S He is thirsty today .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Many boys sometimes works at the school .
A 3 4|||R:VERB:SVA|||work|||REQUIRED|||-NONE-|||0

S A kind child go to the markte today .
A 3 4|||R:VERB:SVA|||goes|||REQUIRED|||-NONE-|||0
A 6 7|||R:SPELL|||market|||REQUIRED|||-NONE-|||0

S She do not have a dog .
A 1 2|||R:VERB:SVA|||does|||REQUIRED|||-NONE-|||0

S You does not draw the the cups .
A 1 2|||R:VERB:SVA|||do|||REQUIRED|||-NONE-|||0
A 5 6|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S She read the mesage .
A 1 2|||R:VERB:SVA|||reads|||REQUIRED|||-NONE-|||0
A 3 4|||R:SPELL|||message|||REQUIRED|||-NONE-|||0

S Three little farmers are tired again .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S She usually fixes a blue car .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S She does not help some happy men .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The engineer fixes many box .
A 4 5|||R:NOUN:NUM|||boxes|||REQUIRED|||-NONE-|||0

S She does not eat my green cakes every morning .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S This doctor sometimes walk to the the library .
A 3 4|||R:VERB:SVA|||walks|||REQUIRED|||-NONE-|||0
A 6 7|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S Two men do not sell a sweet cookie .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S We meet a engineer .
A 2 3|||R:DET|||an|||REQUIRED|||-NONE-|||0

S Thier girl always clean a table .
A 0 1|||R:SPELL|||Their|||REQUIRED|||-NONE-|||0
A 3 4|||R:VERB:SVA|||cleans|||REQUIRED|||-NONE-|||0

S He are happy now .
A 1 2|||R:VERB:SVA|||is|||REQUIRED|||-NONE-|||0

S Some students sits on the grass .
A 2 3|||R:VERB:SVA|||sit|||REQUIRED|||-NONE-|||0

S Many aunts often fix the box .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S His sisters draw a small cat tomorrow .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S A kind uncle does not help these men .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S I live near the market after work .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S They opens the key tomorrow .
A 1 2|||R:VERB:SVA|||open|||REQUIRED|||-NONE-|||0

S They live near the beach tomorrow .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S You do not need these chairs .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S They are sad in the the evening .
A 5 6|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S Thsee boys often bring your cakes .
A 0 1|||R:SPELL|||These|||REQUIRED|||-NONE-|||0

S The boy does not clean the shirt today .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S We recevie your mssages .
A 1 2|||R:SPELL|||receive|||REQUIRED|||-NONE-|||0
A 3 4|||R:SPELL|||messages|||REQUIRED|||-NONE-|||0

S An artist does not open a story .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S A doctor wants an orange .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S She draws three houses .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S They do not write a storry .
A 5 6|||R:SPELL|||story|||REQUIRED|||-NONE-|||0

S They do not clean his red shirt again .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The boy usually callss three aunts .
A 3 4|||R:SPELL|||calls|||REQUIRED|||-NONE-|||0

S I ned this cake after school .
A 1 2|||R:SPELL|||need|||REQUIRED|||-NONE-|||0

S The boys are in the room today .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Two tall teachers is at the bank .
A 3 4|||R:VERB:SVA|||are|||REQUIRED|||-NONE-|||0

S Tey watch her angry teachers .
A 0 1|||R:SPELL|||They|||REQUIRED|||-NONE-|||0

S His uncles finds this letter in the morning .
A 2 3|||R:VERB:SVA|||find|||REQUIRED|||-NONE-|||0

S The bother is sad in evening .
A 1 2|||R:SPELL|||brother|||REQUIRED|||-NONE-|||0
A 5 5|||M:DET|||the|||REQUIRED|||-NONE-|||0

S A girl often cooks an expensive banan .
A 6 7|||R:SPELL|||banana|||REQUIRED|||-NONE-|||0

S A boy is happy .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Many tall girls are hungry .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S My student nevver reads the mesasge .
A 2 3|||R:SPELL|||never|||REQUIRED|||-NONE-|||0
A 5 6|||R:SPELL|||message|||REQUIRED|||-NONE-|||0

S He does not watch this little sister .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Your woman is bored .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Our boy wants three windows in the morning .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S He wants a small hat every weke .
A 6 7|||R:SPELL|||week|||REQUIRED|||-NONE-|||0

S The old famrer is tiredd .
A 2 3|||R:SPELL|||farmer|||REQUIRED|||-NONE-|||0
A 4 5|||R:SPELL|||tired|||REQUIRED|||-NONE-|||0

S You live near the school today .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Our chidl often runs to the hospital .
A 1 2|||R:SPELL|||child|||REQUIRED|||-NONE-|||0

S The the engineer lives near the station after work .
A 1 2|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S I am in the kitchen .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S They do not have your book on Sundays .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S We visits a yong sister .
A 1 2|||R:VERB:SVA|||visit|||REQUIRED|||-NONE-|||0
A 3 4|||R:SPELL|||young|||REQUIRED|||-NONE-|||0

S Their nurses work at the scohol .
A 5 6|||R:SPELL|||school|||REQUIRED|||-NONE-|||0

S We miss the wmoan every day .
A 3 4|||R:SPELL|||woman|||REQUIRED|||-NONE-|||0

S The engineers visit an old uncle again .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S We teaches a teacher .
A 1 2|||R:VERB:SVA|||teach|||REQUIRED|||-NONE-|||0

S She does not liek a friend .
A 3 4|||R:SPELL|||like|||REQUIRED|||-NONE-|||0

S My artists sleeps in the room at night .
A 2 3|||R:VERB:SVA|||sleep|||REQUIRED|||-NONE-|||0

S A farmer cooks the banana at night .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S A student sits on the floor on Sundays .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The uncle sellss these ugly car every day .
A 2 3|||R:SPELL|||sells|||REQUIRED|||-NONE-|||0
A 5 6|||R:NOUN:NUM|||cars|||REQUIRED|||-NONE-|||0

S Nurrses are verry thirsty again .
A 0 1|||R:SPELL|||Nurses|||REQUIRED|||-NONE-|||0
A 2 3|||R:SPELL|||very|||REQUIRED|||-NONE-|||0

S You usually visits three kind neighbors .
A 2 3|||R:VERB:SVA|||visit|||REQUIRED|||-NONE-|||0

S We is bored in the evvening .
A 1 2|||R:VERB:SVA|||are|||REQUIRED|||-NONE-|||0
A 5 6|||R:SPELL|||evening|||REQUIRED|||-NONE-|||0

S Their tall artist is at the beach every morning .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S The little teacher usually run to the school .
A 4 5|||R:VERB:SVA|||runs|||REQUIRED|||-NONE-|||0

S Doctors run to the hospital .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S They always eats some green bananas .
A 2 3|||R:VERB:SVA|||eat|||REQUIRED|||-NONE-|||0

S Her teachers writes a lette .
A 2 3|||R:VERB:SVA|||write|||REQUIRED|||-NONE-|||0
A 4 5|||R:SPELL|||letter|||REQUIRED|||-NONE-|||0

S Three nursess are very happy .
A 1 2|||R:SPELL|||nurses|||REQUIRED|||-NONE-|||0

S These young women work at the bank .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S You wait for the train .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Brothers often washes the bird .
A 2 3|||R:VERB:SVA|||wash|||REQUIRED|||-NONE-|||0

S These uncles brings this key .
A 2 3|||R:VERB:SVA|||bring|||REQUIRED|||-NONE-|||0

S She bringss a sandwich on Wensday .
A 1 2|||R:SPELL|||brings|||REQUIRED|||-NONE-|||0
A 5 6|||R:SPELL|||Wednesday|||REQUIRED|||-NONE-|||0

S Your child brings a phone in the morning .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Our aunt walks to the the hospital .
A 5 6|||U:DET|||-NONE-|||REQUIRED|||-NONE-|||0

S The brother wants the dog .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S You are bored today .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S I meet her angry student .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S Our kind engineers bring tehse cakes .
A 4 5|||R:SPELL|||these|||REQUIRED|||-NONE-|||0

S They sleeps in the garden .
A 1 2|||R:VERB:SVA|||sleep|||REQUIRED|||-NONE-|||0

S A teacher etas some sandwiches .
A 2 3|||R:SPELL|||eats|||REQUIRED|||-NONE-|||0

S Little students does not cook a green cookie in the morning .
A 2 3|||R:VERB:SVA|||do|||REQUIRED|||-NONE-|||0

S The happy aunt does not write this book every day .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S She always sits on the floor .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S His nurses walk to the station in the evening .
A -1 -1|||noop|||-NONE-|||REQUIRED|||-NONE-|||0

S An kind friend does not wash a old cat on Wednesday .
A 0 1|||R:DET|||A|||REQUIRED|||-NONE-|||0
A 6 7|||R:DET|||an|||REQUIRED|||-NONE-|||0

S Your girls vissit a girl .
A 2 3|||R:SPELL|||visit|||REQUIRED|||-NONE-|||0

S Many artists does not receive a old email .
A 2 3|||R:VERB:SVA|||do|||REQUIRED|||-NONE-|||0
A 5 6|||R:DET|||an|||REQUIRED|||-NONE-|||0

